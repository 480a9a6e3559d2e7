package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DefaultInstaller runs dnf when smith.yaml names no installer (and no
// build context named "installer" replaces it).
const DefaultInstaller = "docker.io/library/oraclelinux:9"

// RefKind is what an image named in smith.yaml is.
type RefKind string

// The kinds of ImageRef.
const (
	// RefImage is a named build context or, when the build has none of
	// that name, an image reference to pull.
	RefImage RefKind = "image"
	// RefURL is smith's https://[user:pass@]host[:port]/repo[:tag] form
	// of an image reference.
	RefURL RefKind = "url"
	// RefArchive is an image archive in the build context (an OCI image
	// layout or a docker save file), unless a named build context of the
	// same name replaces it.
	RefArchive RefKind = "archive"
)

// Archive is an image archive in the build context, smith's
// file.tar[.gz|.tgz][:tag] form.
type Archive struct {
	File string // path inside the build context
	Tag  string // optional: which image of the archive
}

// ImageRef is an image smith.yaml names (package of type oci, parent,
// installer), parsed once. The zero ImageRef (Kind "") names none. A value
// must parse even when a named build context replaces it at build time
// (--build-context installer=…): smith.yaml is checked on its own.
type ImageRef struct {
	Kind RefKind
	// Value is the text of smith.yaml, with its position.
	Value String
	// Field is the key that names the image, for errors.
	Field string
	// Context is the named build context (--build-context NAME=…) looked
	// up first, like FROM in a Dockerfile: the value as written, or the
	// reference a URL maps to.
	Context string
	// Ref is the image reference to pull (RefImage, RefURL). Credentials
	// in smith's URL form are dropped: registry auth comes from the
	// builder's session.
	Ref string
	// Archive is the archive file and tag (RefArchive).
	Archive Archive
	file    string // smith.yaml's name, for errors
}

// Error returns err as a problem of the smith.yaml value that names the
// image, at its line.
func (r ImageRef) Error(err error) *Error {
	return &Error{File: r.file, Pos: r.Value.Pos, Field: r.Field, Msg: err.Error()}
}

// imageRef parses an image value of smith.yaml. An http(s) URL maps to
// host[:port]/repo[:tag] (registry-1.docker.io becomes docker.io); an
// archive is FILE.tar[:TAG]; anything else is a context name or image
// reference, passed through unchanged (frontend checks the reference's
// syntax once it knows no named context has that name).
func (p *parser) imageRef(v String, field string) (ImageRef, error) {
	r, err := parseImageRef(v.Value)
	if err != nil {
		return ImageRef{}, p.errorf(v.Pos, field, "%v", err)
	}
	r.Value, r.Field, r.file = v, field, p.name
	return r, nil
}

func parseImageRef(v string) (ImageRef, error) {
	if v == "" {
		return ImageRef{}, errors.New("no image given")
	}
	if a, ok := parseArchive(v); ok {
		return ImageRef{Kind: RefArchive, Context: v, Archive: a}, nil
	}
	if !IsURL(v) {
		for _, part := range strings.Split(v, ":") {
			if ext := ArchiveExt(part); ext != "" {
				return ImageRef{}, fmt.Errorf("%q names an archive (%s) but is not FILE%s[:TAG]", v, part, ext)
			}
		}
		r := ImageRef{Kind: RefImage, Context: v, Ref: v}
		if strings.Contains(v, "://") {
			r.Context = "" // not a valid context name
		}
		return r, nil
	}
	u, err := url.Parse(v)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the whole URL would echo credentials
		}
		return ImageRef{}, fmt.Errorf("parsing image URL: %v", err)
	}
	u.User = nil
	host := u.Host
	if host == "" {
		return ImageRef{}, fmt.Errorf("image URL %s has no host", u.Redacted())
	}
	if host == "registry-1.docker.io" || host == "index.docker.io" {
		host = "docker.io"
	}
	repo := strings.Trim(u.Path, "/")
	if repo == "" {
		return ImageRef{}, fmt.Errorf("image URL %s has no repository", u.Redacted())
	}
	ref := host + "/" + repo
	return ImageRef{Kind: RefURL, Context: ref, Ref: ref}, nil
}

// parseArchive recognizes smith's archive form: the file part is the first
// ":"-separated piece, or the second to last when there are more than two,
// and ends in .tar, .tar.gz or .tgz.
func parseArchive(v string) (Archive, bool) {
	parts := strings.Split(v, ":")
	file, tag := parts[0], ""
	if len(parts) > 2 {
		file = parts[len(parts)-2]
	}
	if len(parts) > 1 {
		tag = parts[len(parts)-1]
	}
	if file == parts[len(parts)-1] {
		tag = ""
	}
	if ArchiveExt(file) != "" {
		return Archive{File: file, Tag: tag}, true
	}
	return Archive{}, false
}

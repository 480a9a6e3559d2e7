package llbgen

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/smithbuild/smith/config"
)

// Source describes where the tree to shrink comes from when type is oci.
type Source struct {
	// Name is looked up first as a BuildKit named context (--build-context
	// NAME=…), exactly as written in smith.yaml (credentials removed).
	Name string
	// Ref is the image reference to pull when no named context matches.
	// Credentials in smith's URL form are dropped: registry auth comes from
	// the builder's session.
	Ref string
}

// ImageSource maps a smith.yaml `package` value of type oci to an image
// source. smith's URL form, https://[user:pass@]host[:port]/repo[:tag], maps
// to host[:port]/repo[:tag] (registry-1.docker.io becomes docker.io); plain
// image references and named-context names pass through unchanged.
func ImageSource(pkg string) (Source, error) {
	if pkg == "" {
		return Source{}, fmt.Errorf("no image given")
	}
	if _, ok := ParseArchive(pkg); ok {
		return Source{}, fmt.Errorf("%q is an image archive, not an image reference", pkg)
	}
	if !config.IsURL(pkg) {
		for _, part := range strings.Split(pkg, ":") {
			if ext := config.ArchiveExt(part); ext != "" {
				return Source{}, fmt.Errorf("%q names an archive (%s) but is not FILE%s[:TAG]", pkg, part, ext)
			}
		}
		return Source{Name: pkg, Ref: pkg}, nil
	}
	u, err := url.Parse(pkg)
	if err != nil {
		return Source{}, fmt.Errorf("parsing image URL: %v", redactURLError(err))
	}
	u.User = nil
	host := u.Host
	if host == "" {
		return Source{}, fmt.Errorf("image URL %s has no host", u.Redacted())
	}
	if host == "registry-1.docker.io" || host == "index.docker.io" {
		host = "docker.io"
	}
	repo := strings.Trim(u.Path, "/")
	if repo == "" {
		return Source{}, fmt.Errorf("image URL %s has no repository", u.Redacted())
	}
	ref := host + "/" + repo
	return Source{Name: u.String(), Ref: ref}, nil
}

// redactURLError keeps url.Parse errors from echoing credentials.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s", ue.Err)
	}
	return err
}

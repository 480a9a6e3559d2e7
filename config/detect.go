package config

import "strings"

// Package types, as stored in File.Type.Value.
const (
	TypeOCI  = "oci"
	TypeMock = "mock"
)

// DetectType guesses the type of a package reference the way smith always
// has, extended to image references: an http(s) URL or a local OCI-layout
// tarball ("file.tar[.gz][:tag]", "file.tgz[:tag]") is "oci"; so is a
// reference with a digest, or one with a "/" that is neither a local path
// nor an .rpm file (docker.io/library/nginx:1.25, 127.0.0.1:5000/x).
// Everything else is an RPM name or file, so "mock".
func DetectType(pkg string) string {
	if strings.HasPrefix(pkg, "http://") || strings.HasPrefix(pkg, "https://") {
		return TypeOCI
	}
	if _, ok := parseArchive(pkg); ok {
		return TypeOCI
	}
	// Not smith's FILE[:TAG] shape, but meant as an archive: an image
	// source, so that the error says what is wrong with it.
	parts := strings.Split(pkg, ":")
	for _, part := range parts[:len(parts)-1] {
		if ArchiveExt(part) != "" {
			return TypeOCI
		}
	}
	if strings.Contains(pkg, "@sha256:") {
		return TypeOCI
	}
	if strings.Contains(pkg, "/") &&
		!strings.HasPrefix(pkg, "/") && !strings.HasPrefix(pkg, ".") &&
		!strings.HasSuffix(pkg, ".rpm") {
		return TypeOCI
	}
	return TypeMock
}

// ArchiveExt returns the image-archive extension name ends in (".tar",
// ".tar.gz", ".tgz"), or "".
func ArchiveExt(name string) string {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(name, ext) {
			return ext
		}
	}
	return ""
}

package attest

// PredicateType identifies the manifest when it travels as an in-toto
// attestation.
const PredicateType = "https://smithbuild.github.io/attestations/package-manifest/v1"

// Manifest is the JSON document smith records for a microcontainer whose
// source has a package database (RPMs it installed, or a dpkg-based image).
type Manifest struct {
	// Distro names the source's distribution when known (os-release ID and
	// VERSION_ID), e.g. {"id": "debian", "versionID": "12"}.
	Distro *Distro `json:"distro,omitempty"`
	// Packages own at least one file of the image, each with those files.
	Packages []Package `json:"packages"`
	// Unused lists installed packages (dependencies, mostly) that own no
	// file of the image, by ID.
	Unused []string `json:"unused"`
	// Unowned lists image files no package owns: generated files, the
	// rootfs/ overlay, files written by scriptlets.
	Unowned []string `json:"unowned"`
	// Files lists every file of the image (not directories), sorted, with
	// its digest and owner.
	Files []File `json:"files,omitempty"`
	// Sources are what the image was made from: the source or installer
	// image, the repositories.
	Sources []Source `json:"sources,omitempty"`
}

// File is one file of the image.
type File struct {
	Path string `json:"path"`
	// SHA256 is the hex digest of a regular file's content; empty for a
	// symlink, whose target is in Link.
	SHA256 string `json:"sha256,omitempty"`
	// SHA1 is there for SPDX, which requires it.
	SHA1 string `json:"sha1,omitempty"`
	// MD5 is for dpkg's md5sums in the image's package record; not kept.
	MD5  string `json:"-"`
	Link string `json:"link,omitempty"`
	// Package is the owner's ID, empty when no package owns it.
	Package string `json:"package,omitempty"`
	// Reasons say why the file is in the image, as the trace found them.
	Reasons []string `json:"reasons,omitempty"`
}

// Source is one input of the build, recorded by the frontend.
type Source struct {
	// Kind is "image" (the image shrunk), "installer" (the image dnf ran
	// in), "parent" or "repository".
	Kind string `json:"kind"`
	// Name is an image reference or a repository URL (never credentials).
	Name string `json:"name"`
	// Digest pins an image, when known.
	Digest string `json:"digest,omitempty"`
}

// Distro is the source's distribution, from its os-release file.
type Distro struct {
	ID        string `json:"id"`
	VersionID string `json:"versionID,omitempty"`
}

// Package is one contributing package.
type Package struct {
	Type string `json:"type"` // "rpm" or "deb"
	// ID is rpm's NEVRA (name-epoch:version-release.arch) or, for deb,
	// name_version_arch.
	ID      string `json:"id"`
	Name    string `json:"name"`
	Epoch   string `json:"epoch,omitempty"` // rpm only
	Version string `json:"version"`         // rpm: version-release; deb: the Version field
	Arch    string `json:"arch,omitempty"`
	// Files of the image the package owns, sorted.
	Files []string `json:"files"`
	// InstalledFiles counts the files (not directories) the package
	// installed in the source; fewer in Files means the image ships part of
	// the package. Zero when unknown.
	InstalledFiles int `json:"installedFiles,omitempty"`
	// URL and SHA256 say where a package pinned by smith.lock came from.
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

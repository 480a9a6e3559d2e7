package protocol

import (
	"errors"
	"fmt"
)

// Install is the RPM install step's request. With Packages it is a locked
// build's transaction: the RPMs smith.lock pins, already fetched and
// checksummed, installed with rpm alone into the empty Root in one
// transaction (no solve, no repository metadata). Without Packages dnf has
// installed Root already and the step only writes the record.
//
// Either way the helper leaves the record of the rpmdb, which a Plan's RPM
// reads, in Record.
type Install struct {
	// Version is the protocol version; EncodeInstall sets it.
	Version int `json:"version"`
	// Root is the install root.
	Root string `json:"root"`
	// Keys are key files imported into Root's rpmdb before the
	// transaction: the repositories' keys.
	Keys []string `json:"keys,omitempty"`
	// KeysFrom, when set, is an installer image's root: the keys of its
	// own repositories, its /etc/pki/rpm-gpg/RPM-GPG-KEY* files (links
	// resolved inside it), are imported too.
	KeysFrom string `json:"keysFrom,omitempty"`
	// Packages are the RPMs to install, in smith.lock's order.
	Packages []Package `json:"packages,omitempty"`
	// Context is where the build context is mounted; Globs, smith.yaml's
	// local RPM patterns in it, must match no file that no package pins
	// (the lock would be stale).
	Context string `json:"context,omitempty"`
	Globs   []Glob `json:"globs,omitempty"`
	// Cross, when set, installs for another architecture than the
	// helper's: rpm ignores the architecture and runs no scriptlets, and
	// the step names the packages whose scriptlets did not run.
	Cross *Cross `json:"cross,omitempty"`
	// Record is where the record of the rpmdb goes.
	Record Record `json:"record"`
}

// Package is one RPM of a locked transaction.
type Package struct {
	// NEVRA names the package in messages.
	NEVRA string `json:"nevra"`
	// File is the RPM file.
	File string `json:"file"`
	// SHA256, when set, is checked against File before anything is
	// installed: a file of the build context, which BuildKit did not
	// checksum when it fetched it.
	SHA256 string `json:"sha256,omitempty"`
	// Path is File's path in the build context, for a file of it: what
	// Globs' matches are checked against (a match no package's Path is
	// makes the lock stale) and its name in messages.
	Path string `json:"path,omitempty"`
	// CheckSignature requires File's signature to verify with the
	// imported keys.
	CheckSignature bool `json:"checkSignature,omitempty"`
}

// Glob is a local RPM pattern of smith.yaml.
type Glob struct {
	// Pattern is the glob, relative to the build context.
	Pattern string `json:"pattern"`
	// Name is the pattern as smith.yaml writes it, for messages.
	Name string `json:"name"`
}

// Cross names the architectures of a cross install (RPM names: x86_64,
// aarch64, …), for the message about scriptlets.
type Cross struct {
	Target string `json:"target"`
	Build  string `json:"build"`
}

// EncodeInstall writes in as the install step reads it.
func EncodeInstall(in Install) ([]byte, error) {
	in.Version = Version
	return encode(in)
}

// DecodeInstall reads an install request of this protocol version.
func DecodeInstall(b []byte) (Install, error) {
	return decodeChecked(b, Install.check)
}

func (in Install) check() error {
	switch {
	case in.Root == "":
		return errors.New("install: the request names no install root")
	case in.Record.Files == "" || in.Record.Packages == "" || in.Record.QA == "":
		return errors.New("install: the request does not say where the record goes")
	case in.Cross != nil && (in.Cross.Target == "" || in.Cross.Build == ""):
		return errors.New("install: a cross install names both architectures")
	}
	if len(in.Globs) > 0 && in.Context == "" {
		return errors.New("install: local RPM patterns need the build context")
	}
	for i, p := range in.Packages {
		if p.NEVRA == "" || p.File == "" {
			return fmt.Errorf("install: packages[%d] needs a NEVRA and a file", i)
		}
		if p.SHA256 != "" && len(p.SHA256) != 64 {
			return fmt.Errorf("install: %s: sha256 %q: want 64 hex digits", p.NEVRA, p.SHA256)
		}
		if p.SHA256 != "" && p.Path == "" {
			return fmt.Errorf("install: %s: a checksummed file of the build context needs its path", p.NEVRA)
		}
	}
	return nil
}

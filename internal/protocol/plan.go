package protocol

import (
	"fmt"

	"github.com/smithbuild/smith/internal/closure"
)

// Env names the environment variable the helper's trace command reads a
// JSON Plan from when run by hand. Builds pass the plan as a file
// (--plan-file) instead: an environment string holds at most 128 KiB.
const Env = "SMITH_PLAN"

// Plan is one microcontainer's output, as the helper builds it: the trace
// step's request.
type Plan struct {
	// Version is the protocol version; EncodePlan sets it.
	Version int `json:"version"`
	// Trace is what to copy from the source root, with its closure.
	Trace closure.Request `json:"trace"`
	// Mkdir lists directories to create (the skeleton, volumes, workdir).
	Mkdir []string `json:"mkdir,omitempty"`
	// Files are generated files (e.g. /etc/passwd), written over the
	// closure and under the rootfs/ overlay.
	Files []File `json:"files,omitempty"`
	// Writable directories are owned by Owner instead of root, so the
	// runtime user can write there on a read-only root (/write, /run).
	Writable []string `json:"writable,omitempty"`
	Owner    Owner    `json:"owner"`
	// Epoch is the mtime of everything written, in Unix seconds.
	Epoch int64 `json:"epoch"`
	// Manifest is where to write the package manifest (JSON): which
	// package each output file comes from. Empty skips it.
	Manifest string `json:"manifest,omitempty"`
	// RPM locates the install step's record of the rpmdb, for RPM builds;
	// otherwise the helper reads the source's dpkg database, if any.
	RPM *RPM `json:"rpm,omitempty"`
	// Record writes the package record scanners read into the image (the
	// contributing packages only) and the source's os-release.
	Record bool `json:"record,omitempty"`
	// Parent says the image goes on a parent's layers: smith's own layer
	// may then be empty.
	Parent bool `json:"parent,omitempty"`
}

// Record locates the install step's record of the rpmdb.
type Record struct {
	// Files lists "NEVRA<TAB>path" lines, one per file of every package.
	Files string `json:"files"`
	// Packages lists every installed NEVRA, one per line.
	Packages string `json:"packages"`
	// QA holds one container-manifest-2 line per package (rpm -qa with
	// NAME, VERSION-RELEASE, INSTALLTIME, BUILDTIME, VENDOR, EPOCH, SIZE,
	// ARCH, EPOCHNUM, SOURCERPM, tab-separated).
	QA string `json:"qa,omitempty"`
}

// RPM is what the trace step reads of an RPM install: the record, and
// where each locked package came from.
type RPM struct {
	Record
	// Locked maps the NEVRA of every package smith.lock pinned to where it
	// came from, for the package manifest and the SBOM.
	Locked map[string]Pin `json:"locked,omitempty"`
}

// Pin is where a locked RPM came from.
type Pin struct {
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// File is a generated file.
type File struct {
	Path string `json:"path"`
	Mode uint32 `json:"mode"`
	Data string `json:"data"`
	// IfAbsent skips the file when the closure already has one at Path
	// (smith.yaml's paths brought their own).
	IfAbsent bool `json:"ifAbsent,omitempty"`
	// When names the inference that must have fired for the file to be
	// written: WhenNSS, or "" for always.
	When string `json:"when,omitempty"`
}

// WhenNSS writes a file only when the closure needs NSS (closure.Closure.NSS).
const WhenNSS = "nss"

// Owner is a numeric user and group.
type Owner struct {
	UID int `json:"uid"`
	GID int `json:"gid"`
}

// EncodePlan writes p as the trace step reads it.
func EncodePlan(p Plan) ([]byte, error) {
	p.Version = Version
	return encode(p)
}

// DecodePlan reads a plan of this protocol version.
func DecodePlan(b []byte) (Plan, error) {
	return decodeChecked(b, Plan.check)
}

func (p Plan) check() error {
	if p.Epoch < 0 {
		return fmt.Errorf("epoch %d: want a non-negative number of seconds", p.Epoch)
	}
	return nil
}

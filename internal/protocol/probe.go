package protocol

import (
	"errors"

	"github.com/smithbuild/smith/internal/closure"
)

// Probe is one smith.yaml probe, as the helper runs it against the
// finished image: the probe step's request.
type Probe struct {
	// Version is the protocol version; EncodeProbe sets it.
	Version int `json:"version"`
	// Origin names the probe in messages ("smith.yaml:12:3: probe[0]").
	Origin closure.Origin `json:"origin"`
	// Args is the command; Args[0] is looked up in the image's PATH.
	Args []string `json:"args"`
	// Exit is the exit code the command must return.
	Exit int `json:"exit"`
	// Output, when not empty, must occur in stdout or stderr.
	Output string `json:"output,omitempty"`
	// Stdin is fed to the command.
	Stdin string `json:"stdin,omitempty"`
	// Source is where the source tree is mounted: a failed lookup of a
	// path the source has is reported as a file to add to paths.
	Source string `json:"source"`
}

// EncodeProbe writes p as the probe step reads it.
func EncodeProbe(p Probe) ([]byte, error) {
	p.Version = Version
	return encode(p)
}

// DecodeProbe reads a probe of this protocol version.
func DecodeProbe(b []byte) (Probe, error) {
	return decodeChecked(b, Probe.check)
}

func (p Probe) check() error {
	switch {
	case len(p.Args) == 0 || p.Args[0] == "":
		return errors.New("the probe has no command")
	case p.Source == "":
		return errors.New("the probe names no source tree")
	}
	return nil
}

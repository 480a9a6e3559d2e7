package protocol

import (
	"encoding/json"

	"github.com/smithbuild/smith/manifest"
)

// EncodeManifest writes the trace step's response: the package manifest, at
// the plan's Manifest path. The frontend attaches the file as it is, as an
// in-toto predicate of manifest.PredicateType, which versions it; so it
// carries no Version of its own and decodes leniently.
func EncodeManifest(m *manifest.Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

// DecodeManifest reads the package manifest the trace step wrote.
func DecodeManifest(b []byte) (*manifest.Manifest, error) {
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// manifestStatement is the part of an in-toto statement inspect reads.
type manifestStatement struct {
	Predicate manifest.Manifest `json:"predicate"`
}

// DecodeManifestStatement reads the package manifest from the in-toto
// statement an exported image carries, as `smith-frontend inspect` finds
// it.
func DecodeManifestStatement(b []byte) (*manifest.Manifest, error) {
	var st manifestStatement
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st.Predicate, nil
}

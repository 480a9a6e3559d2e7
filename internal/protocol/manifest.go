package protocol

import (
	"encoding/json"

	"github.com/smithbuild/smith/internal/pkgdb"
)

// EncodeManifest writes the trace step's response: the package manifest, at
// the plan's Manifest path. The frontend attaches the file as it is, as an
// in-toto predicate of pkgdb.PredicateType, which versions it; so it
// carries no Version of its own and decodes leniently.
func EncodeManifest(m *pkgdb.Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

// DecodeManifest reads the package manifest the trace step wrote.
func DecodeManifest(b []byte) (*pkgdb.Manifest, error) {
	var m pkgdb.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// manifestStatement is the part of an in-toto statement inspect reads.
type manifestStatement struct {
	Predicate pkgdb.Manifest `json:"predicate"`
}

// DecodeManifestStatement reads the package manifest from the in-toto
// statement an exported image carries, as `smith-frontend inspect` finds
// it.
func DecodeManifestStatement(b []byte) (*pkgdb.Manifest, error) {
	var st manifestStatement
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st.Predicate, nil
}

package imagearchive

import (
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Attestation returns the in-toto statement of predicateType that BuildKit
// attached to img (in the attestation manifest that refers to img's
// manifest), or nil when it has none. OCI layouts only.
func (a *Archive) Attestation(img *Image, predicateType string) ([]byte, error) {
	if a.format != OCI || img.Manifest.Digest == "" {
		return nil, nil
	}
	b, err := a.readFile("index.json")
	if err != nil {
		return nil, err
	}
	return a.findAttestation(b, img, predicateType, 0)
}

// findAttestation walks an index (and the indexes it lists) for the
// attestation manifest of img.
func (a *Archive) findAttestation(index []byte, img *Image, predicateType string, depth int) ([]byte, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		return nil, fmt.Errorf("%s: index: %w", a.name, err)
	}
	for _, d := range idx.Manifests {
		switch {
		case d.MediaType == ocispec.MediaTypeImageIndex && depth < 4:
			b, err := a.readBlob(blobPath(d.Digest), d)
			if err != nil {
				return nil, err
			}
			if st, err := a.findAttestation(b, img, predicateType, depth+1); err != nil || st != nil {
				return st, err
			}
		case d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" &&
			d.Annotations["vnd.docker.reference.digest"] == img.Manifest.Digest.String():
			b, err := a.readBlob(blobPath(d.Digest), d)
			if err != nil {
				return nil, err
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("%s: attestation manifest %s: %w", a.name, d.Digest, err)
			}
			for _, l := range m.Layers {
				if l.Annotations["in-toto.io/predicate-type"] == predicateType {
					return a.readBlob(blobPath(l.Digest), l)
				}
			}
		}
	}
	return nil, nil
}

package frontend

import (
	"context"
	"fmt"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/pkgdb"
	"github.com/smithbuild/smith/internal/protocol"
)

// sbomFile is the SPDX document's path in its attestation result.
const sbomFile = "/sbom.spdx.json"

// attestations returns what to attach beside one platform's image: the
// package manifest (always for RPM builds; for other sources when they had
// a package database), and, when the client asked for an SBOM (--sbom,
// attest:sbom), smith's own SPDX document, so BuildKit runs no scanner.
func (b *build) attestations(ctx context.Context, manifestState llb.State, p ocispecs.Platform, sources []pkgdb.Source) ([]client.Attestation, error) {
	ref, err := b.solveRef(ctx, manifestState, p)
	if err != nil {
		return nil, err
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: llbgen.ManifestFile})
	if err != nil {
		return nil, fmt.Errorf("reading the package manifest: %w", err)
	}
	m, err := protocol.DecodeManifest(dt)
	if err != nil {
		return nil, fmt.Errorf("decoding the package manifest: %w", err)
	}
	var out []client.Attestation
	if b.f.Type.Value == config.TypeMock || len(m.Packages) > 0 {
		out = append(out, client.Attestation{
			Kind:   gatewaypb.AttestationKind_InToto,
			Ref:    ref,
			Path:   llbgen.ManifestFile,
			InToto: result.InTotoAttestation{PredicateType: pkgdb.PredicateType},
		})
	}
	if !b.o.SBOM {
		return out, nil
	}
	m.Sources = sources
	doc, err := pkgdb.SPDX(m, "smith-"+Version, b.epoch)
	if err != nil {
		return nil, fmt.Errorf("writing the SBOM: %w", err)
	}
	sbom := llb.Scratch().File(llb.Mkfile(sbomFile, 0o644, doc, llb.WithCreatedTime(b.epoch)),
		llb.WithCustomName("[smith] SBOM from the package manifest"))
	sref, err := b.solveRef(ctx, sbom, p)
	if err != nil {
		return nil, err
	}
	return append(out, client.Attestation{
		Kind: gatewaypb.AttestationKind_InToto,
		Ref:  sref,
		Path: sbomFile,
		Metadata: map[string][]byte{
			result.AttestationReasonKey: []byte(result.AttestationReasonSBOM),
			result.AttestationSBOMCore:  []byte("smith"),
		},
		InToto: result.InTotoAttestation{PredicateType: intoto.PredicateSPDX},
	}), nil
}

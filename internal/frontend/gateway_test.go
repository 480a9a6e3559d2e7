package frontend

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/lock"
	"github.com/smithbuild/smith/internal/pkgdb"
)

// fakeGateway is BuildKit's gateway client as Build sees it, over a
// fakeResolver's registry and solves: every solved result holds smith.yaml
// and the resolver's outputs, and the client runs from the resolver's
// frontend image.
type fakeGateway struct {
	*fakeResolver
	opts     map[string]string
	warnings []string
}

var _ client.Client = (*fakeGateway)(nil)

func newGateway(yaml string, opts map[string]string) *fakeGateway {
	r := newFake()
	r.images["docker.io/debian/x:1"] = fakeImage{digest: testDigest("x")}
	r.outputs["smith.yaml"] = []byte(yaml)
	r.outputs[llbgen.ManifestFile] = mustJSON(pkgdb.Manifest{})
	if opts == nil {
		opts = map[string]string{} // as the gateway gives them
	}
	return &fakeGateway{fakeResolver: r, opts: opts}
}

func (g *fakeGateway) BuildOpts() client.BuildOpts {
	return client.BuildOpts{
		Opts:      g.opts,
		SessionID: "session",
		Workers:   []client.WorkerInfo{{Platforms: []ocispecs.Platform{amd64}}},
		LLBCaps:   pb.Caps.CapSet(pb.Caps.All()),
		Caps:      gwpb.Caps.CapSet(gwpb.Caps.All()),
	}
}

func (g *fakeGateway) ResolveSourceMetadata(context.Context, *pb.SourceOp, sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return nil, errors.New("not in the fake")
}

func (g *fakeGateway) Inputs(context.Context) (map[string]llb.State, error) { return nil, nil }

func (g *fakeGateway) NewContainer(context.Context, client.NewContainerRequest) (client.Container, error) {
	return nil, errors.New("not in the fake")
}

func (g *fakeGateway) Warn(_ context.Context, _ digest.Digest, msg string, _ client.WarnOpts) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.warnings = append(g.warnings, msg)
	return nil
}

// TestBuildCheck: buildx --check answers from smith.yaml alone, and a bad
// smith.yaml fails it with its line.
func TestBuildCheck(t *testing.T) {
	g := newGateway(ociYAML, map[string]string{"requestid": "frontend.lint"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || len(res.Metadata) == 0 {
		t.Fatalf("no lint result: %+v", res)
	}
	if len(g.resolved) > 0 || len(g.solves) != 1 {
		t.Errorf("--check fetched: resolved %v, %d solves (want only smith.yaml read)", g.resolved, len(g.solves))
	}

	g = newGateway("package: debian/x:1\npaths: /a\n", map[string]string{"requestid": "frontend.lint"})
	_, err = Build(context.Background(), g)
	srcs := errdefs.Sources(err)
	if err == nil || !strings.HasPrefix(err.Error(), "smith.yaml:2:") || len(srcs) != 1 || srcs[0].Ranges[0].Start.Line != 2 {
		t.Errorf("err = %v, sources %+v", err, srcs)
	}

	g = newGateway(ociYAML, map[string]string{"requestid": "frontend.outline"})
	if _, err := Build(context.Background(), g); err == nil {
		t.Error("an unsupported subrequest passed")
	}
}

// TestBuildPlatforms: two target platforms give one image each, with its
// config and attestations, and the platform list the exporter needs.
func TestBuildPlatforms(t *testing.T) {
	g := newGateway(ociYAML, map[string]string{"platform": "linux/amd64,linux/arm64", "attest:sbom": "", "label:team": "a",
		"build-arg:SOURCE_DATE_EPOCH": "1700000000"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	ids := slices.Sorted(maps.Keys(res.Refs))
	if !slices.Equal(ids, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("refs %v", ids)
	}
	for _, id := range ids {
		cfg := string(res.Metadata["containerimage.config/"+id])
		if !strings.Contains(cfg, `"architecture":"`+strings.TrimPrefix(id, "linux/")+`"`) || !strings.Contains(cfg, `"team":"a"`) {
			t.Errorf("%s: config %s", id, cfg)
		}
		if string(res.Metadata["source.date.epoch/"+id]) != "1700000000" {
			t.Errorf("%s: epoch %q", id, res.Metadata["source.date.epoch/"+id])
		}
		if n := len(res.Attestations[id]); n != 1 {
			t.Errorf("%s: %d attestations, want the SBOM", id, n)
		}
	}
	if _, ok := res.Metadata["refs.platforms"]; !ok {
		t.Error("no platform list")
	}
	if !slices.Contains(g.resolved, "docker.io/debian/x:1 arm64") {
		t.Errorf("resolved %v", g.resolved)
	}
}

// TestBuildSingle: one platform, the default filename, a named context
// from the client's options, and a failing step's error passed on.
func TestBuildSingle(t *testing.T) {
	yaml := "type: oci\npackage: base\npaths: [/a]\n"
	g := newGateway(yaml, map[string]string{"context:base": "docker-image://registry.test/base:1"})
	g.images["registry.test/base:1"] = fakeImage{digest: testDigest("base"), config: imageConfig("/from-context")}
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref == nil || !strings.Contains(string(res.Metadata["containerimage.config"]), `"/from-context"`) {
		t.Errorf("result %+v", res.Metadata)
	}
	if g.opts["filename"] != DefaultFilename {
		t.Errorf("filename %q", g.opts["filename"])
	}
	if !slices.Contains(g.resolved, "registry.test/base:1 amd64") {
		t.Errorf("the named context was not resolved: %v", g.resolved)
	}

	g = newGateway("package: debian/x:1\nparent: missing:1\npaths: [/a]\n", nil)
	_, err = Build(context.Background(), g)
	if srcs := errdefs.Sources(err); err == nil || !strings.HasPrefix(err.Error(), "smith.yaml:2:9: parent: resolving image docker.io/library/missing:1") || len(srcs) != 1 {
		t.Errorf("err = %v", err)
	}
}

// TestBuildLock: the gateway reads smith.lock from the build context, and
// smith-lock=1 returns the written lock as the build's result.
func TestBuildLock(t *testing.T) {
	g := newGateway(rpmYAML, map[string]string{"smith-lock": "1"})
	g.outputs[llbgen.ResolveFile] = mustJSON([]lock.Package{})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref == nil || len(res.Metadata) != 0 || len(g.solves) == 0 {
		t.Fatalf("result %+v", res)
	}
	// The result is the solve that writes smith.lock, and the lock parses.
	written := mkfileData(t, g.solves[len(g.solves)-1].Definition, "/"+lock.FileName)
	if l, err := lock.Parse(written); err != nil || l.Arches["x86_64"] == nil {
		t.Errorf("smith.lock written: %v\n%s", err, written)
	}

	g = newGateway(rpmYAML, nil)
	g.outputs[lock.FileName] = lockFor(t, rpmYAML, "x86_64")
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	var locked bool
	for _, s := range g.solves {
		locked = locked || hasOp(opList(t, s.Definition), "source https://repo.test/el9/httpd.x86_64.rpm")
	}
	if !locked {
		t.Error("smith.lock was not used")
	}
}

// TestBuildEntrypoint: smith.yaml that cannot be read fails the build,
// saying which file.
func TestBuildEntrypoint(t *testing.T) {
	g := newGateway(ociYAML, map[string]string{"filename": "sub/smith.yaml"})
	g.solveErr = errors.New("no such local")
	if _, err := Build(context.Background(), g); err == nil || !strings.HasPrefix(err.Error(), "reading sub/smith.yaml: ") {
		t.Errorf("err = %v", err)
	}
}

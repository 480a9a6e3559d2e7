package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// fakeResolver answers a build from its maps and records what the build
// asked. Build contexts are Offline's local sources.
type fakeResolver struct {
	Offline
	// images are the registry, by the reference the build asks for.
	images map[string]fakeImage
	// contexts are the named build contexts, by name.
	contexts map[string]fakeImage
	// files are the main build context's files, for ReadFile.
	files map[string][]byte
	// outputs are the files of every solved result, by path.
	outputs map[string][]byte
	// frontend is the image the frontend runs from; nil for none.
	frontend *llb.State
	// solveErr, when set, fails every solve.
	solveErr error

	mu       sync.Mutex
	resolved []string // ResolveImageConfig's references, with the platform
	named    []string // NamedContext's names
	read     []string // ReadFile's names
	solves   []client.SolveRequest
}

type fakeImage struct {
	digest digest.Digest
	config dockerspec.DockerOCIImage
	raw    []byte // the config JSON, instead of config
	err    error
}

var _ Resolver = (*fakeResolver)(nil)

func (r *fakeResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := "-"
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = opt.ImageOpt.Platform.Architecture
	}
	r.resolved = append(r.resolved, ref+" "+p)
	img, ok := r.images[ref]
	if !ok {
		return "", "", nil, fmt.Errorf("%s: not found", ref)
	}
	if img.err != nil {
		return "", "", nil, img.err
	}
	if img.raw != nil {
		return ref, img.digest, img.raw, nil
	}
	return ref, img.digest, mustJSON(img.config), nil
}

func (r *fakeResolver) NamedContext(_ context.Context, name string, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.named = append(r.named, name)
	img, ok := r.contexts[name]
	if !ok {
		return nil, nil, nil
	}
	if img.err != nil {
		return nil, nil, img.err
	}
	st := llb.Image("ctx.test/"+name, llb.Platform(p))
	return &st, &img.config, nil
}

func (r *fakeResolver) ReadFile(_ context.Context, name string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read = append(r.read, name)
	b, ok := r.files[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return b, nil
}

func (r *fakeResolver) Solve(_ context.Context, req client.SolveRequest) (*client.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.solves = append(r.solves, req)
	if r.solveErr != nil {
		return nil, r.solveErr
	}
	res := client.NewResult()
	res.SetRef(fakeRef{files: r.outputs})
	return res, nil
}

func (r *fakeResolver) CurrentFrontend() (*llb.State, error) {
	return r.frontend, nil
}

// fakeRef is a solved result holding files.
type fakeRef struct{ files map[string][]byte }

func (fakeRef) ToState() (llb.State, error)    { return llb.Scratch(), nil }
func (fakeRef) Evaluate(context.Context) error { return nil }

func (r fakeRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	b, ok := r.files[req.Filename]
	if !ok {
		return nil, fmt.Errorf("%s: %w", req.Filename, fs.ErrNotExist)
	}
	return b, nil
}

func (r fakeRef) StatFile(_ context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	if _, ok := r.files[req.Path]; !ok {
		return nil, fmt.Errorf("%s: %w", req.Path, fs.ErrNotExist)
	}
	return &fstypes.Stat{Path: req.Path}, nil
}

func (fakeRef) ReadDir(context.Context, client.ReadDirRequest) ([]*fstypes.Stat, error) {
	return nil, nil
}

// helperImage is the frontend image of the tests.
var helperImage = llb.Image("docker.io/smith/frontend:test")

// newFake returns a resolver that runs from helperImage and knows the
// default installer.
func newFake() *fakeResolver {
	return &fakeResolver{
		frontend: &helperImage,
		images: map[string]fakeImage{
			"docker.io/library/oraclelinux:9": {digest: testDigest("oraclelinux")},
		},
		files:   map[string][]byte{},
		outputs: map[string][]byte{},
	}
}

// source is smith.yaml as dockerui reads it; warnings go to warned.
func source(yaml string, warned *[]string) *dockerui.Source {
	return &dockerui.Source{
		SourceMap: llb.NewSourceMap(nil, "smith.yaml", "YAML", []byte(yaml)),
		Warn: func(_ context.Context, msg string, o client.WarnOpts) {
			if warned != nil {
				for _, r := range o.Range {
					msg += fmt.Sprintf(" (line %d)", r.Start.Line)
				}
				*warned = append(*warned, msg)
			}
		},
	}
}

var amd64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// testOptions builds on amd64.
func testOptions() options {
	return options{Filename: "smith.yaml", BuildPlatform: amd64}
}

// prepared is a build of yaml through r, ready for its platforms.
func prepared(t *testing.T, r Resolver, yaml string, o options) *build {
	t.Helper()
	b, err := newBuild(context.Background(), r, source(yaml, nil), o)
	if err != nil {
		t.Fatalf("newBuild: %v", err)
	}
	if err := b.prepare(context.Background()); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return b
}

func testDigest(s string) digest.Digest { return digest.FromString(s) }

// opList is one line per op of a definition: its kind and what it names,
// with its custom name in brackets.
func opList(t *testing.T, def *pb.Definition) []string {
	t.Helper()
	var out []string
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		var line string
		switch {
		case op.GetSource() != nil:
			line = "source " + op.GetSource().Identifier
		case op.GetExec() != nil:
			line = "exec " + strings.Join(op.GetExec().Meta.Args, " ")
		case op.GetFile() != nil:
			line = "file"
			for _, a := range op.GetFile().Actions {
				switch {
				case a.GetMkfile() != nil:
					line += " mkfile " + a.GetMkfile().Path
				case a.GetCopy() != nil:
					line += " copy " + a.GetCopy().Src
				default:
					line += " other"
				}
			}
		case op.GetMerge() != nil:
			line = "merge"
		case op.GetDiff() != nil:
			line = "diff"
		default:
			continue // the definition's terminal op
		}
		if md, ok := def.Metadata[string(digest.FromBytes(dt))]; ok && md.Description["llb.customname"] != "" {
			line += " [" + md.Description["llb.customname"] + "]"
		}
		out = append(out, line)
	}
	return out
}

// stateOps marshals st for p and lists its ops.
func stateOps(t *testing.T, st llb.State, p ocispecs.Platform) []string {
	t.Helper()
	def, err := st.Marshal(context.Background(), llb.Platform(p))
	if err != nil {
		t.Fatal(err)
	}
	return opList(t, def.ToPB())
}

// hasOp reports whether some op line starts with prefix.
func hasOp(ops []string, prefix string) bool {
	return slices.ContainsFunc(ops, func(op string) bool { return strings.HasPrefix(op, prefix) })
}

// mkfileData returns the data of the first mkfile of path in def.
func mkfileData(t *testing.T, def *pb.Definition, path string) []byte {
	t.Helper()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		for _, a := range op.GetFile().GetActions() {
			if m := a.GetMkfile(); m != nil && m.Path == path {
				return m.Data
			}
		}
	}
	t.Fatalf("no mkfile %s in the definition", path)
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// checkErr fails t unless err starts with want and, when line is not 0,
// carries that line of smith.yaml as its source; with want empty, unless
// err is nil. It reports whether an error was wanted, which ends the case.
func checkErr(t *testing.T, err error, want string, line int32) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want prefix %q", err, want)
	}
	srcs := errdefs.Sources(err)
	if line != 0 && (len(srcs) != 1 || srcs[0].Ranges[0].Start.Line != line || srcs[0].Info.Filename != "smith.yaml") {
		t.Errorf("sources = %+v, want line %d of smith.yaml", srcs, line)
	}
	return true
}

// checkOps fails t for each prefix that no op line of st for p starts
// with, and returns the op lines.
func checkOps(t *testing.T, st llb.State, p ocispecs.Platform, prefixes ...string) []string {
	t.Helper()
	ops := stateOps(t, st, p)
	for _, want := range prefixes {
		if !hasOp(ops, want) {
			t.Errorf("no op %q in\n%s", want, strings.Join(ops, "\n"))
		}
	}
	return ops
}

package frontend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/internal/llbgen"
)

// Resolver is everything a build asks of BuildKit: image configs, named
// build contexts, the main build context and its files, and solves. The
// gateway implements it for real builds, offline for LLB printed without a
// daemon, and the tests with fakes. Its methods take plain references and
// names, never smith.yaml's types.
type Resolver interface {
	// ResolveImageConfig looks an image reference up: the reference as
	// resolved, the manifest digest (empty when unknown) and the config
	// JSON, like the gateway client's method of the same name.
	ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error)
	// NamedContext loads the build context called name (--build-context
	// name=…) for platform p; all nil when the build has none.
	NamedContext(ctx context.Context, name string, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error)
	// Context returns the files of the main build context that match
	// include, loaded by a step called name.
	Context(ctx context.Context, include []string, name string) (llb.State, error)
	// ReadFile returns a file at the root of the main build context; the
	// error matches fs.ErrNotExist when there is none.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// Solve solves one request, like the gateway client's method.
	Solve(ctx context.Context, req client.SolveRequest) (*client.Result, error)
	// CurrentFrontend returns the digest-pinned image this frontend runs
	// from, or nil when it does not run from one.
	CurrentFrontend() (*llb.State, error)
}

// gateway is the Resolver of a real build: BuildKit's gateway client, with
// dockerui for the build contexts.
type gateway struct {
	client.Client
	bc *dockerui.Client
}

var _ Resolver = gateway{}

// currentFrontend is implemented by the gateway's grpc client: it returns
// the digest-pinned LLB of the image this frontend runs from.
type currentFrontend interface {
	CurrentFrontend() (*llb.State, error)
}

func (g gateway) CurrentFrontend() (*llb.State, error) {
	if cf, ok := g.Client.(currentFrontend); ok {
		return cf.CurrentFrontend()
	}
	return nil, nil
}

func (g gateway) NamedContext(ctx context.Context, name string, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
	nc, err := g.bc.NamedContext(name, dockerui.ContextOpt{Platform: &p, ResolveMode: g.bc.ImageResolveMode.String()})
	if err != nil || nc == nil {
		return nil, nil, err
	}
	st, img, err := nc.Load(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the build context %q: %w", name, err)
	}
	return st, img, nil
}

func (g gateway) Context(ctx context.Context, include []string, name string) (llb.State, error) {
	st, err := g.bc.MainContext(ctx, llb.IncludePatterns(include), llb.WithCustomName(name))
	if err != nil {
		return llb.State{}, err
	}
	return *st, nil
}

func (g gateway) ReadFile(ctx context.Context, name string) ([]byte, error) {
	st, err := g.Context(ctx, []string{name}, "[smith] load "+name+" from the build context")
	if err != nil {
		return nil, err
	}
	ref, err := solveRef(ctx, g, st, g.bc.BuildPlatforms[0], nil)
	if err != nil {
		return nil, err
	}
	if _, err := ref.StatFile(ctx, client.StatRequest{Path: name}); err != nil {
		return nil, fs.ErrNotExist
	}
	b, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// optionsOf reads a build's settings from dockerui.
func optionsOf(bc *dockerui.Client) options {
	opts := bc.BuildOpts().Opts
	return options{
		Filename:        opts["filename"],
		Opts:            opts,
		BuildArgs:       bc.BuildArgs,
		BuildPlatform:   bc.BuildPlatforms[0],
		Runnable:        workerPlatforms(bc.BuildOpts().Workers),
		TargetPlatforms: bc.TargetPlatforms,
		Labels:          bc.Labels,
		NoCache:         bc.IsNoCache(""),
		CacheImports:    bc.CacheImports,
		SBOM:            bc.SBOM != nil,
		ResolveMode:     bc.ImageResolveMode.String(),
	}
}

// workerPlatforms are the platforms the builder's workers run steps for,
// natively or emulated (dockerui's BuildPlatforms holds only the first).
func workerPlatforms(ws []client.WorkerInfo) []ocispecs.Platform {
	var out []ocispecs.Platform
	for _, w := range ws {
		out = append(out, w.Platforms...)
	}
	return out
}

// Offline is the Resolver of LLB made without a BuildKit daemon
// (smith-frontend llb): an image resolves to its own reference with an
// empty config, so nothing is inherited from it; the build context is the
// local source "context", for the client to send; no named context, no
// smith.lock; and nothing is solved, so an image archive, which the build
// must read first, is an error.
type Offline struct {
	// Helper holds the smith helper: the frontend image.
	Helper llb.State
	// Warnings, when set, receives the build's warnings, one a line.
	Warnings io.Writer
}

var _ Resolver = Offline{}

// Generate returns the LLB and image config of smith.yaml (name, data) for
// target, as Build would make them, with what the daemon would resolve
// left as Offline describes.
func (o Offline) Generate(ctx context.Context, name string, data []byte, target ocispecs.Platform) (*llbgen.Result, error) {
	src := &dockerui.Source{
		SourceMap: llb.NewSourceMap(nil, name, "YAML", data),
		Warn: func(_ context.Context, msg string, _ client.WarnOpts) {
			if o.Warnings != nil {
				fmt.Fprintln(o.Warnings, "warning:", msg)
			}
		},
	}
	b, err := newBuild(ctx, o, src, options{Filename: name})
	if err != nil {
		return nil, err
	}
	if err := b.prepare(ctx); err != nil {
		return nil, err
	}
	gen, _, err := b.generate(ctx, target)
	return gen, err
}

func (Offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, "", []byte("{}"), nil
}

func (Offline) NamedContext(context.Context, string, ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
	return nil, nil, nil
}

func (Offline) Context(_ context.Context, include []string, name string) (llb.State, error) {
	return llb.Local("context", llb.IncludePatterns(include), llb.WithCustomName(name)), nil
}

func (Offline) ReadFile(context.Context, string) ([]byte, error) {
	return nil, fs.ErrNotExist
}

// Solve fails: only an image archive is solved before the LLB is complete
// (smith.lock is read through ReadFile and written only on request).
func (Offline) Solve(context.Context, client.SolveRequest) (*client.Result, error) {
	return nil, errors.New("an image archive needs the frontend to read it: build with the frontend, not offline LLB")
}

func (o Offline) CurrentFrontend() (*llb.State, error) {
	return &o.Helper, nil
}

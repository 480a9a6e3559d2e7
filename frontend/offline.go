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

	"github.com/smithbuild/smith/llbgen"
)

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
	b, err := newBuild(ctx, o, src, Options{Filename: name})
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

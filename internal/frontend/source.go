package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/protocol"
)

// loadSource returns the tree smith copies from, and its image config when
// known: the `package` image of type oci, or scratch.
func (b *build) loadSource(ctx context.Context, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, string, error) {
	if b.f.Source.Kind == "" {
		return llb.Scratch(), nil, "", nil
	}
	return b.loadImage(ctx, b.helper, b.f.Source, p, false)
}

func deref(st *llb.State) llb.State {
	if st == nil {
		return llb.State{}
	}
	return *st
}

// loadInstaller returns the image that runs dnf: the "installer" named
// context when the build has one, else smith.yaml's installer (which
// defaults to config.DefaultInstaller).
func (b *build) loadInstaller(ctx context.Context, p ocispecs.Platform) (llb.State, string, error) {
	if st, _, err := b.r.NamedContext(ctx, llbgen.InstallerContext, p); err != nil || st != nil {
		return deref(st), "build context " + llbgen.InstallerContext, err
	}
	st, _, origin, err := b.loadImage(ctx, b.helper, b.f.InstallerRef, p, false)
	return st, origin, err
}

// loadArchive unpacks an image archive from the build context inside the
// build: one helper step reads its config and layer count, then one step
// per layer applies it onto the previous one.
func (b *build) loadArchive(ctx context.Context, helper llb.State, a config.Archive, p ocispecs.Platform, layered bool) (llb.State, *dockerspec.DockerOCIImage, error) {
	file, err := config.ContextPath(a.File)
	if err != nil {
		return llb.State{}, nil, err
	}
	archiveCtx, err := b.r.Context(ctx, []string{file}, "[smith] load "+file+" from the build context")
	if err != nil {
		return llb.State{}, nil, err
	}
	maxLayers, maxBytes, err := archiveLimits(b.o.BuildArgs)
	if err != nil {
		return llb.State{}, nil, err
	}
	in := llbgen.ArchiveInputs{
		Archive: a, Context: archiveCtx, Helper: helper,
		Platform: p, BuildPlatform: b.o.BuildPlatform, IgnoreCache: b.o.NoCache, MaxBytes: maxBytes,
	}
	inspect, err := llbgen.ArchiveInspect(in)
	if err != nil {
		return llb.State{}, nil, err
	}
	ref, err := b.solveRef(ctx, inspect, b.o.BuildPlatform)
	if err != nil {
		return llb.State{}, nil, err
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: llbgen.ArchiveInspectFile})
	if err != nil {
		return llb.State{}, nil, fmt.Errorf("reading what the archive holds: %w", err)
	}
	info, err := protocol.DecodeImage(dt)
	if err != nil {
		return llb.State{}, nil, fmt.Errorf("decoding the archive's image config: %w", err)
	}
	img := &dockerspec.DockerOCIImage{}
	if err := json.Unmarshal(info.Config, img); err != nil {
		return llb.State{}, nil, fmt.Errorf("decoding the archive's image config: %w", err)
	}
	if info.Layers > maxLayers {
		return llb.State{}, nil, fmt.Errorf("%s has %d layers; the limit is %d (raise it with --build-arg SMITH_MAX_LAYERS=N)", a.File, info.Layers, maxLayers)
	}
	root, stacked, err := llbgen.ArchiveLayers(in, info.Layers)
	if err != nil {
		return llb.State{}, nil, err
	}
	if layered {
		return stacked, img, nil
	}
	return root, img, nil
}

// archiveLimits reads SMITH_MAX_LAYERS (default 128) and
// SMITH_MAX_ARCHIVE_BYTES (default 16 GiB) from the build-args.
func archiveLimits(args map[string]string) (layers int, bytes int64, err error) {
	layers, bytes = 128, 16<<30
	if v := args["SMITH_MAX_LAYERS"]; v != "" {
		if layers, err = strconv.Atoi(v); err != nil || layers < 1 {
			return 0, 0, fmt.Errorf("build arg SMITH_MAX_LAYERS=%q: want a positive number", v)
		}
	}
	if v := args["SMITH_MAX_ARCHIVE_BYTES"]; v != "" {
		if bytes, err = strconv.ParseInt(v, 10, 64); err != nil || bytes < 1 {
			return 0, 0, fmt.Errorf("build arg SMITH_MAX_ARCHIVE_BYTES=%q: want a positive number", v)
		}
	}
	return layers, bytes, nil
}

// loadParent returns the parent image, or nil when smith.yaml names none.
func (b *build) loadParent(ctx context.Context, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, string, error) {
	if b.f.ParentRef.Kind == "" {
		return nil, nil, "", nil
	}
	st, img, origin, err := b.loadImage(ctx, b.helper, b.f.ParentRef, p, true)
	if err != nil {
		return nil, nil, "", err
	}
	return &st, img, origin, nil
}

// loadImage resolves an image named in smith.yaml: first as a named context
// (--build-context NAME=…, like FROM in a Dockerfile), then as an image
// archive in the build context (file.tar[.gz][:tag]), or as an image
// reference pulled for the target platform. layered asks an archive's
// content as its separate layers (for a parent) rather than one tree.
//
// origin names what was loaded, for the SBOM: the digest-pinned reference,
// the named context or the archive file (credentials never included).
func (b *build) loadImage(ctx context.Context, helper llb.State, ref config.ImageRef, p ocispecs.Platform, layered bool) (st llb.State, img *dockerspec.DockerOCIImage, origin string, err error) {
	// The cause is kept as text on purpose: if it were wrapped, BuildKit
	// would report the inner gRPC status alone and drop the smith.yaml
	// position and field from the message.
	fail := func(err error) error { return ref.Error(err) }
	// A named context of the same name wins over an archive file.
	if ref.Kind == config.RefArchive && b.o.Opts["context:"+ref.Context] == "" {
		st, img, err := b.loadArchive(ctx, helper, ref.Archive, p, layered)
		if err != nil {
			return llb.State{}, nil, "", fail(err)
		}
		return st, img, "build context file " + ref.Archive.File, nil
	}
	if ref.Context != "" {
		if st, img, err := b.r.NamedContext(ctx, ref.Context, p); err != nil {
			return llb.State{}, nil, "", fail(err)
		} else if st != nil {
			return *st, img, "build context " + ref.Context, nil
		}
	}

	named, err := reference.ParseNormalizedNamed(ref.Ref)
	if err != nil {
		return llb.State{}, nil, "", fail(fmt.Errorf("%q is neither a build context nor a valid image reference: %v", ref.Ref, err))
	}
	named = reference.TagNameOnly(named)
	resolved, dgst, data, err := b.r.ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName: "[smith] load metadata for " + named.String(),
		ImageOpt: &sourceresolver.ResolveImageOpt{
			Platform:    &p,
			ResolveMode: b.o.ResolveMode,
		},
	})
	if err != nil {
		return llb.State{}, nil, "", fail(fmt.Errorf("resolving image %s: %w", named.String(), err))
	}
	img = &dockerspec.DockerOCIImage{}
	if err := json.Unmarshal(data, img); err != nil {
		return llb.State{}, nil, "", fail(fmt.Errorf("decoding the config of image %s: %w", named.String(), err))
	}
	pinned := resolved
	if dgst != "" {
		if d, err := reference.WithDigest(reference.TrimNamed(named), dgst); err == nil {
			pinned = d.String()
		}
	}
	st = llb.Image(pinned, llb.Platform(p), llb.WithCustomName("[smith] pull "+named.String()))
	return st, img, pinned, nil
}

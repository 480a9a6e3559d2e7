package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/llbgen"
	"github.com/smithbuild/smith/protocol"
)

// loadSource returns the tree smith copies from, and its image config when
// known: the `package` image of type oci, or scratch.
func loadSource(ctx context.Context, c client.Client, bc *dockerui.Client, helper llb.State, f *config.File, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, string, error) {
	if len(f.Package.Items) == 0 {
		return llb.Scratch(), nil, "", nil
	}
	st, img, origin, err := loadImage(ctx, c, bc, helper, f, f.Package.Items[0], "package", p, false)
	return st, img, origin, err
}

// namedContext loads the build context called name (--build-context
// name=…) for platform p; all nil when the build has none.
func namedContext(ctx context.Context, bc *dockerui.Client, name string, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
	nc, err := bc.NamedContext(name, dockerui.ContextOpt{Platform: &p, ResolveMode: bc.ImageResolveMode.String()})
	if err != nil || nc == nil {
		return nil, nil, err
	}
	st, img, err := nc.Load(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the build context %q: %w", name, err)
	}
	return st, img, nil
}

func deref(st *llb.State) llb.State {
	if st == nil {
		return llb.State{}
	}
	return *st
}

// loadInstaller returns the image that runs dnf: the "installer" named
// context when the build has one, else smith.yaml's installer, else
// llbgen.DefaultInstaller.
func loadInstaller(ctx context.Context, c client.Client, bc *dockerui.Client, f *config.File, p ocispecs.Platform) (llb.State, string, error) {
	if st, _, err := namedContext(ctx, bc, llbgen.InstallerContext, p); err != nil || st != nil {
		return deref(st), "build context " + llbgen.InstallerContext, err
	}
	item := f.Installer
	if item.Value == "" {
		item = config.String{Value: llbgen.DefaultInstaller, Pos: f.Package.Pos}
	}
	st, _, origin, err := loadImage(ctx, c, bc, llb.Scratch(), f, item, "installer", p, false)
	return st, origin, err
}

// loadArchive unpacks an image archive from the build context inside the
// build: one helper step reads its config and layer count, then one step
// per layer applies it onto the previous one.
func loadArchive(ctx context.Context, c client.Client, bc *dockerui.Client, helper llb.State, a llbgen.Archive, p ocispecs.Platform, layered bool) (llb.State, *dockerspec.DockerOCIImage, error) {
	file, err := config.ContextPath(a.File)
	if err != nil {
		return llb.State{}, nil, err
	}
	archiveCtx, err := bc.MainContext(ctx, llb.IncludePatterns([]string{file}),
		llb.WithCustomName("[smith] load "+file+" from the build context"))
	if err != nil {
		return llb.State{}, nil, err
	}
	maxLayers, maxBytes, err := archiveLimits(bc.BuildArgs)
	if err != nil {
		return llb.State{}, nil, err
	}
	in := llbgen.ArchiveInputs{
		Archive: a, Context: *archiveCtx, Helper: helper,
		Platform: p, BuildPlatform: bc.BuildPlatforms[0], IgnoreCache: bc.IsNoCache(""), MaxBytes: maxBytes,
	}
	inspect, err := llbgen.ArchiveInspect(in)
	if err != nil {
		return llb.State{}, nil, err
	}
	ref, err := solveRef(ctx, c, inspect, bc.BuildPlatforms[0], bc.CacheImports)
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
func loadParent(ctx context.Context, c client.Client, bc *dockerui.Client, helper llb.State, f *config.File, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, string, error) {
	if f.Parent.Value == "" {
		return nil, nil, "", nil
	}
	st, img, origin, err := loadImage(ctx, c, bc, helper, f, f.Parent, "parent", p, true)
	if err != nil {
		return nil, nil, "", err
	}
	return &st, img, origin, nil
}

// loadImage resolves an image named in smith.yaml: first as a named context
// (--build-context NAME=…, like FROM in a Dockerfile), then as an image
// archive in the build context (file.tar[.gz][:tag]), then as an image
// reference pulled for the target platform. layered asks an archive's
// content as its separate layers (for a parent) rather than one tree.
//
// origin names what was loaded, for the SBOM: the digest-pinned reference,
// the named context or the archive file (credentials never included).
func loadImage(ctx context.Context, c client.Client, bc *dockerui.Client, helper llb.State, f *config.File, item config.String, field string, p ocispecs.Platform, layered bool) (st llb.State, img *dockerspec.DockerOCIImage, origin string, err error) {
	// The cause is kept as text on purpose: if it were wrapped, BuildKit
	// would report the inner gRPC status alone and drop the smith.yaml
	// position and field from the message.
	fail := func(err error) error {
		return &config.Error{File: f.Name, Pos: item.Pos, Field: field, Msg: err.Error()}
	}
	// A named context of the same name wins over an archive file.
	if a, ok := llbgen.ParseArchive(item.Value); ok && bc.BuildOpts().Opts["context:"+item.Value] == "" {
		st, img, err := loadArchive(ctx, c, bc, helper, a, p, layered)
		if err != nil {
			return llb.State{}, nil, "", fail(err)
		}
		return st, img, "build context file " + a.File, nil
	}
	src, err := llbgen.ImageSource(item.Value)
	if err != nil {
		return llb.State{}, nil, "", fail(err)
	}
	for _, name := range []string{src.Name, src.Ref} {
		if strings.Contains(name, "://") {
			continue // smith's URL form: not a valid context name
		}
		if st, img, err := namedContext(ctx, bc, name, p); err != nil {
			return llb.State{}, nil, "", fail(err)
		} else if st != nil {
			return *st, img, "build context " + name, nil
		}
	}

	named, err := reference.ParseNormalizedNamed(src.Ref)
	if err != nil {
		return llb.State{}, nil, "", fail(fmt.Errorf("%q is neither a build context nor a valid image reference: %v", src.Ref, err))
	}
	named = reference.TagNameOnly(named)
	ref, dgst, data, err := c.ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName: "[smith] load metadata for " + named.String(),
		ImageOpt: &sourceresolver.ResolveImageOpt{
			Platform:    &p,
			ResolveMode: bc.ImageResolveMode.String(),
		},
	})
	if err != nil {
		return llb.State{}, nil, "", fail(fmt.Errorf("resolving image %s: %w", named.String(), err))
	}
	img = &dockerspec.DockerOCIImage{}
	if err := json.Unmarshal(data, img); err != nil {
		return llb.State{}, nil, "", fail(fmt.Errorf("decoding the config of image %s: %w", named.String(), err))
	}
	pinned := ref
	if dgst != "" {
		if d, err := reference.WithDigest(reference.TrimNamed(named), dgst); err == nil {
			pinned = d.String()
		}
	}
	st = llb.Image(pinned, llb.Platform(p), llb.WithCustomName("[smith] pull "+named.String()))
	return st, img, pinned, nil
}

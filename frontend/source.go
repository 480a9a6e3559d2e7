package frontend

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/llbgen"
)

// loadSource returns the tree smith copies from, and its image config when
// known. A `package` of type oci is looked up first as a named context
// (--build-context NAME=…, like FROM in a Dockerfile), then pulled as an
// image reference for the target platform.
func loadSource(ctx context.Context, c client.Client, bc *dockerui.Client, f *config.File, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	if len(f.Package.Items) == 0 {
		return llb.Scratch(), nil, nil
	}
	item := f.Package.Items[0]
	fail := func(err error) error {
		return &config.Error{File: f.Name, Pos: item.Pos, Field: "package", Msg: err.Error()}
	}
	src, err := llbgen.ImageSource(item.Value)
	if err != nil {
		return llb.State{}, nil, fail(err)
	}
	for _, name := range []string{src.Name, src.Ref} {
		nc, err := bc.NamedContext(name, dockerui.ContextOpt{Platform: &p, ResolveMode: bc.ImageResolveMode.String()})
		if err != nil {
			return llb.State{}, nil, fail(err)
		}
		if nc == nil {
			continue
		}
		st, img, err := nc.Load(ctx)
		if err != nil {
			return llb.State{}, nil, fail(fmt.Errorf("loading build context %q: %w", name, err))
		}
		if st == nil {
			continue
		}
		return *st, img, nil
	}

	named, err := reference.ParseNormalizedNamed(src.Ref)
	if err != nil {
		return llb.State{}, nil, fail(fmt.Errorf("%q is neither a build context nor a valid image reference: %v", src.Ref, err))
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
		return llb.State{}, nil, fail(fmt.Errorf("resolving image %s: %w", named.String(), err))
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(data, &img); err != nil {
		return llb.State{}, nil, fail(fmt.Errorf("decoding the config of image %s: %w", named.String(), err))
	}
	pinned := ref
	if dgst != "" {
		if d, err := reference.WithDigest(reference.TrimNamed(named), dgst); err == nil {
			pinned = d.String()
		}
	}
	st := llb.Image(pinned, llb.Platform(p), llb.WithCustomName("[smith] pull "+named.String()))
	return st, &img, nil
}

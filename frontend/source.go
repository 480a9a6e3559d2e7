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
// known: the `package` image of type oci, or scratch.
func loadSource(ctx context.Context, c client.Client, bc *dockerui.Client, f *config.File, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	if len(f.Package.Items) == 0 {
		return llb.Scratch(), nil, nil
	}
	return loadImage(ctx, c, bc, f, f.Package.Items[0], "package", p)
}

// loadInstaller returns the image that runs dnf: the "installer" named
// context when the build has one, else smith.yaml's installer, else
// llbgen.DefaultInstaller.
func loadInstaller(ctx context.Context, c client.Client, bc *dockerui.Client, f *config.File, p ocispecs.Platform) (llb.State, error) {
	nc, err := bc.NamedContext(llbgen.InstallerContext, dockerui.ContextOpt{Platform: &p, ResolveMode: bc.ImageResolveMode.String()})
	if err != nil {
		return llb.State{}, err
	}
	if nc != nil {
		st, _, err := nc.Load(ctx)
		if err != nil {
			return llb.State{}, fmt.Errorf("loading the %s build context: %w", llbgen.InstallerContext, err)
		}
		if st != nil {
			return *st, nil
		}
	}
	item := f.Installer
	if item.Value == "" {
		item = config.String{Value: llbgen.DefaultInstaller, Pos: f.Package.Pos}
	}
	st, _, err := loadImage(ctx, c, bc, f, item, "installer", p)
	return st, err
}

// loadParent returns the parent image, or nil when smith.yaml names none.
func loadParent(ctx context.Context, c client.Client, bc *dockerui.Client, f *config.File, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
	if f.Parent.Value == "" {
		return nil, nil, nil
	}
	st, img, err := loadImage(ctx, c, bc, f, f.Parent, "parent", p)
	if err != nil {
		return nil, nil, err
	}
	return &st, img, nil
}

// loadImage resolves an image named in smith.yaml: first as a named context
// (--build-context NAME=…, like FROM in a Dockerfile), then as an image
// reference pulled for the target platform.
func loadImage(ctx context.Context, c client.Client, bc *dockerui.Client, f *config.File, item config.String, field string, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	fail := func(err error) error {
		return &config.Error{File: f.Name, Pos: item.Pos, Field: field, Msg: err.Error()}
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

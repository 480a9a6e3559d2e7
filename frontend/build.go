package frontend

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/llbgen"
	"github.com/smithbuild/smith/lock"
	"github.com/smithbuild/smith/manifest"
)

// Version is the smith version recorded in every image; cmd sets it.
var Version = "dev"

// DefaultFilename is read when the client names no file (-f / filename).
const DefaultFilename = "smith.yaml"

// Build is the gateway entrypoint: smith.yaml in, one image per target
// platform out.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	opts := c.BuildOpts().Opts
	if _, ok := opts["filename"]; !ok {
		// dockerui reads the filename lazily from this same map.
		opts["filename"] = DefaultFilename
	}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "YAML")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", opts["filename"], err)
	}
	name := path.Base(opts["filename"])
	limits, err := parseLimits(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	f, err := config.ParseLimits(name, src.Data, limits)
	var size *config.SizeError
	if errors.As(err, &size) {
		return nil, err // with the whole file attached, the error would be as large
	}
	// Credentials in URLs never reach error output, warnings or provenance.
	// In place: src.Warn shows this same source map.
	src.SourceMap.Data = config.RedactText(src.Data)
	if err != nil {
		return nil, withSource(err, src.SourceMap)
	}
	// user and groups too (nss checks them, see llbgen.Users), before
	// anything is fetched, so --check sees them.
	if _, err := llbgen.Users(f); err != nil {
		return nil, withSource(err, src.SourceMap)
	}
	// One warning for both fields: BuildKit's progress can drop a second
	// warning sent to the same step right after the first.
	var credFields []string
	var credRanges []*pb.Range
	for _, it := range []struct {
		field string
		item  config.String
	}{{"package", first(f.Package)}, {"parent", f.Parent}} {
		if it.item.Value != "" && config.Redact(it.item.Value) != it.item.Value {
			pos := &pb.Position{Line: int32(it.item.Pos.Line)}
			credFields = append(credFields, it.field)
			credRanges = append(credRanges, &pb.Range{Start: pos, End: pos})
		}
	}
	if len(credFields) > 0 {
		src.Warn(ctx, strings.Join(credFields, " and ")+": credentials in the image URL are ignored and not recorded; the builder's registry login is used",
			client.WarnOpts{Range: credRanges})
	}
	// Build-args that need nothing fetched are checked before --check
	// answers, too.
	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	if _, err := lockMode(bc); err != nil {
		return nil, err
	}
	if _, _, err := archiveLimits(bc.BuildArgs); err != nil {
		return nil, err
	}
	// buildx --check: smith.yaml parsed and validated above, so there is
	// nothing left to warn about. Other subrequests are refused by name.
	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Lint: func(context.Context) (*lint.LintResults, error) { return &lint.LintResults{}, nil },
	}); err != nil || ok {
		return res, err
	}
	helper, err := helperImage(ctx, c, bc)
	if err != nil {
		return nil, err
	}
	buildCtx, err := bc.MainContext(ctx,
		llb.IncludePatterns([]string{"rootfs"}),
		llb.WithCustomName("[smith] load rootfs/ from the build context"))
	if err != nil {
		return nil, err
	}
	noCache := bc.IsNoCache("")
	installCtx := llb.Scratch()
	if files := llbgen.ContextFiles(f); len(files) > 0 {
		st, err := bc.MainContext(ctx, llb.IncludePatterns(files),
			llb.WithCustomName("[smith] load RPMs, repositories and keys from the build context"))
		if err != nil {
			return nil, err
		}
		installCtx = *st
	}

	mode, err := lockMode(bc)
	if err != nil {
		return nil, err
	}
	var locked *lock.Lock
	if mode == "write" {
		if err := f.Lockable(); err != nil {
			return nil, withSource(err, src.SourceMap)
		}
	}
	if f.Type.Value == config.TypeMock {
		if mode == "write" {
			return writeLock(ctx, c, bc, f, installCtx)
		}
		if mode == "" {
			if locked, err = readLock(ctx, c, bc); err != nil {
				return nil, err
			}
		}
	}

	var mu sync.Mutex
	byPlatform := map[string][]client.Attestation{}

	rb, err := bc.Build(ctx, func(ctx context.Context, p *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		target := bc.BuildPlatforms[0]
		if p != nil {
			target = *p
		}
		target = platforms.Normalize(target)
		var source llb.State
		var img *dockerspec.DockerOCIImage
		var installer llb.State
		var origin string
		var err error
		var sources []manifest.Source
		if f.Type.Value == config.TypeMock {
			// The installer runs natively (dnf --forcearch) unless
			// smith.yaml asks for emulation.
			installer, origin, err = loadInstaller(ctx, c, bc, f, llbgen.InstallPlatform(f, target, bc.BuildPlatforms[0]))
			sources = append(sources, manifest.Source{Kind: "installer", Name: origin})
			for _, r := range f.Repos {
				sources = append(sources, manifest.Source{Kind: "repository", Name: config.Redact(r.BaseURL.Value)})
			}
		} else {
			source, img, origin, err = loadSource(ctx, c, bc, *helper, f, target)
			if origin != "" {
				sources = append(sources, manifest.Source{Kind: "image", Name: origin})
			}
		}
		if err != nil {
			return nil, withSource(err, src.SourceMap)
		}
		parent, parentImg, parentOrigin, err := loadParent(ctx, c, bc, *helper, f, target)
		if err != nil {
			return nil, withSource(err, src.SourceMap)
		}
		if parentOrigin != "" {
			sources = append(sources, manifest.Source{Kind: "parent", Name: parentOrigin})
		}
		install := llbgen.InstallInputs{Installer: installer, Context: installCtx}
		if locked != nil {
			if install.Locked, err = lockedPackages(locked, f, target); err != nil {
				return nil, err
			}
		}
		gen, err := llbgen.Generate(f, llbgen.Options{
			Platform:      target,
			BuildPlatform: bc.BuildPlatforms[0],
			Source:        source,
			SourceImage:   img,
			Parent:        parent,
			ParentImage:   parentImg,
			Version:       Version,
			Labels:        bc.Labels,
			Install:       install,
			Helper:        *helper,
			Context:       *buildCtx,
			Epoch:         epoch,
			SourceMap:     src.SourceMap,
			IgnoreCache:   noCache,
		})
		if err != nil {
			return nil, withSource(err, src.SourceMap)
		}
		ref, err := solveRef(ctx, c, gen.State, target, bc.CacheImports)
		if err != nil {
			return nil, err
		}
		if err := runProbes(ctx, c, gen.Probes, target, bc.CacheImports); err != nil {
			return nil, err
		}
		atts, err := attestations(ctx, c, bc, gen.Manifest, target, f.Type.Value == config.TypeMock, epoch, sources)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		byPlatform[platforms.Format(target)] = atts
		mu.Unlock()
		return &dockerui.BuildResult{Reference: ref, Image: gen.Image, Epoch: &epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	err = rb.EachPlatform(ctx, func(ctx context.Context, id string, p ocispecs.Platform) error {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range byPlatform[platforms.Format(platforms.Normalize(p))] {
			rb.AddAttestation(id, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

func first(l config.List) config.String {
	if len(l.Items) == 0 {
		return config.String{}
	}
	return l.Items[0]
}

// solveRef solves a state on its own and returns its single result.
func solveRef(ctx context.Context, c client.Client, st llb.State, p ocispecs.Platform, cache []client.CacheOptionsEntry) (client.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return nil, fmt.Errorf("marshaling LLB: %w", err)
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: cache})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// runProbes solves smith.yaml's probe steps, all at once: each runs its
// command against the finished image and fails the build when it does not
// pass. Nothing of them reaches the image.
func runProbes(ctx context.Context, c client.Client, probes []llb.State, p ocispecs.Platform, cache []client.CacheOptionsEntry) error {
	if len(probes) == 0 {
		return nil
	}
	st := probes[0]
	if len(probes) > 1 {
		st = llb.Merge(probes, llb.WithCustomName("[smith] probes"))
	}
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return fmt.Errorf("marshaling probes: %w", err)
	}
	_, err = c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: cache, Evaluate: true})
	return err
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (buildctl and buildx forward the
// client's environment variable as a build arg); without it smith uses Unix
// 0, so builds are reproducible by default.
func sourceDateEpoch(args map[string]string) (time.Time, error) {
	v, ok := args["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("build arg SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds", v)
	}
	if n > maxEpoch {
		return time.Time{}, fmt.Errorf("build arg SOURCE_DATE_EPOCH=%q: after the year 9999, which image timestamps (RFC 3339) cannot hold", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// maxEpoch is 9999-12-31T23:59:59Z.
const maxEpoch = 253402300799

// parseLimits reads the build-args that raise config.DefaultLimits.
func parseLimits(args map[string]string) (config.Limits, error) {
	l := config.DefaultLimits
	for _, it := range []struct {
		name string
		v    *int
	}{{config.LimitArgs.Bytes, &l.Bytes}, {config.LimitArgs.Paths, &l.Paths}, {config.LimitArgs.Value, &l.Value}} {
		s, ok := args[it.name]
		if !ok || s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return l, fmt.Errorf("build arg %s=%q: want a positive number", it.name, s)
		}
		*it.v = n
	}
	return l, nil
}

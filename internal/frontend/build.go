package frontend

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
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
	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/lock"
	"github.com/smithbuild/smith/internal/pkgdb"
)

// Version is the smith version recorded in every image; cmd sets it.
var Version = "dev"

// DefaultFilename is read when the client names no file (-f / filename).
const DefaultFilename = "smith.yaml"

// options are a build's settings, as the client gave them; Build reads
// them through dockerui. The zero value builds for the target platform
// alone, with no build-args.
type options struct {
	// Filename names smith.yaml (-f, filename).
	Filename string
	// Opts are the client's frontend options (smith-lock, context:NAME).
	Opts map[string]string
	// BuildArgs are the client's build-args (SOURCE_DATE_EPOCH, limits,
	// SMITH_LOCK).
	BuildArgs map[string]string
	// BuildPlatform is where helper steps run natively; zero means the
	// target platform.
	BuildPlatform ocispecs.Platform
	// Runnable are the platforms the builder can run steps for: its own
	// and those it emulates. Empty means any.
	Runnable []ocispecs.Platform
	// TargetPlatforms are the platforms smith.lock is written for; none
	// means BuildPlatform.
	TargetPlatforms []ocispecs.Platform
	// Labels are the client's --label values.
	Labels map[string]string
	// NoCache marks every step as uncached (--no-cache).
	NoCache bool
	// CacheImports are the client's cache sources, for every solve.
	CacheImports []client.CacheOptionsEntry
	// SBOM asks for smith's SPDX document beside each image.
	SBOM bool
	// ResolveMode is the image resolve mode (default, pull or local).
	ResolveMode string
}

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
	b, err := newBuild(ctx, gateway{Client: c, bc: bc}, src, optionsOf(bc))
	if err != nil {
		return nil, err
	}
	// buildx --check: smith.yaml parsed and validated above; smith.lock,
	// when the build would use one, is checked against it here. Other
	// subrequests are refused by name.
	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Lint: func(ctx context.Context) (*lint.LintResults, error) { return &lint.LintResults{}, b.checkLock(ctx) },
	}); err != nil || ok {
		return res, err
	}
	if err := b.prepare(ctx); err != nil {
		return nil, err
	}
	if b.mode == "write" {
		return b.writeLock(ctx)
	}

	var mu sync.Mutex
	byPlatform := map[string][]client.Attestation{}

	rb, err := bc.Build(ctx, func(ctx context.Context, p *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		target := b.o.BuildPlatform
		if p != nil {
			target = *p
		}
		target = platforms.Normalize(target)
		res, atts, err := b.platform(ctx, target)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		byPlatform[platforms.Format(target)] = atts
		mu.Unlock()
		return res, nil
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

// build is one smith.yaml on its way to images: what newBuild checked, and
// what prepare resolved once for every platform.
type build struct {
	r     Resolver
	o     options
	src   *dockerui.Source
	f     *config.File
	epoch time.Time
	mode  string // lockMode's

	helper     llb.State  // holds the smith helper
	rootfs     llb.State  // the build context's rootfs/
	installCtx llb.State  // RPMs, repositories and keys from the build context
	locked     *lock.Lock // smith.lock, when the build uses one
}

// newBuild parses and checks smith.yaml and the build-args: everything
// that needs nothing fetched, so that --check reports it.
func newBuild(ctx context.Context, r Resolver, src *dockerui.Source, o options) (*build, error) {
	name := path.Base(o.Filename)
	limits, err := parseLimits(o.BuildArgs)
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
	// smith.yaml's warnings go out together, as one, when newBuild
	// returns: BuildKit's progress can drop a second warning sent to the
	// same step right after the first.
	var warns warnings
	defer warns.send(ctx, src)
	var credFields []string
	var credRanges []*pb.Range
	for _, it := range []struct {
		field string
		item  config.String
	}{{"package", first(f.Package)}, {"parent", f.Parent}} {
		if it.item.Value != "" && config.Redact(it.item.Value) != it.item.Value {
			credFields = append(credFields, it.field)
			credRanges = append(credRanges, pointAt(config.Pos{Line: it.item.Pos.Line}))
		}
	}
	if len(credFields) > 0 {
		warns.add(strings.Join(credFields, " and ")+": credentials in the image URL are ignored and not recorded; the builder's registry login is used",
			credRanges...)
	}
	// Build-args that need nothing fetched are checked before --check
	// answers, too.
	epoch, err := sourceDateEpoch(o.BuildArgs)
	if err != nil {
		return nil, err
	}
	mode, err := lockMode(o)
	if err != nil {
		return nil, err
	}
	if mode == "write" {
		if err := f.Lockable(); err != nil {
			return nil, withSource(err, src.SourceMap)
		}
	}
	if _, _, err := archiveLimits(o.BuildArgs); err != nil {
		return nil, err
	}
	b := &build{r: r, o: o, src: src, f: f, epoch: epoch, mode: mode}
	b.warnUnprobed(&warns)
	return b, nil
}

// warnings collects smith.yaml's warnings, to send as one.
type warnings struct {
	msgs   []string
	ranges []*pb.Range
}

func (w *warnings) add(msg string, ranges ...*pb.Range) {
	w.msgs = append(w.msgs, msg)
	w.ranges = append(w.ranges, ranges...)
}

func (w *warnings) send(ctx context.Context, src *dockerui.Source) {
	if len(w.msgs) > 0 {
		src.Warn(ctx, strings.Join(w.msgs, "; "), client.WarnOpts{Range: w.ranges})
	}
}

// warnUnprobed warns, at the probes' lines, of the target platforms the
// builder cannot run, whose images go unprobed: a probe runs the image's
// own programs, which would fail with "exec format error". (Early, with
// smith.yaml's other warnings: BuildKit may not show a warning given once
// the definition's step has long ended.)
func (b *build) warnUnprobed(w *warnings) {
	if len(b.f.Probes) == 0 || b.mode == "write" {
		return
	}
	var skipped []ocispecs.Platform
	for _, p := range b.targets() {
		if !b.canRun(p) {
			skipped = append(skipped, p)
		}
	}
	if len(skipped) == 0 {
		return
	}
	var ranges []*pb.Range
	for _, pr := range b.f.Probes {
		ranges = append(ranges, pointAt(pr.Pos))
	}
	what, whose := "that platform", "its image is"
	if len(skipped) > 1 {
		what, whose = "these platforms", "their images are"
	}
	w.add(fmt.Sprintf("probe: not run for %s: the builder cannot run %s (it runs %s; emulation, such as binfmt_misc with QEMU, would), so %s not probed",
		formatPlatforms(skipped, " and "), what, formatPlatforms(b.o.Runnable, ", "), whose), ranges...)
}

// prepare loads what every platform shares: the helper, the build
// context's files, and smith.lock.
func (b *build) prepare(ctx context.Context) error {
	helper, err := b.helperImage(ctx)
	if err != nil {
		return err
	}
	b.helper = *helper
	if b.rootfs, err = b.r.Context(ctx, []string{"rootfs"}, "[smith] load rootfs/ from the build context"); err != nil {
		return err
	}
	b.installCtx = llb.Scratch()
	if files := llbgen.ContextFiles(b.f); len(files) > 0 {
		if b.installCtx, err = b.r.Context(ctx, files, "[smith] load RPMs, repositories and keys from the build context"); err != nil {
			return err
		}
	}
	if b.f.Type.Value == config.TypeMock && b.mode == "" {
		if b.locked, err = b.readLock(ctx); err != nil {
			return err
		}
	}
	return nil
}

// platform builds the image for one target platform: its filesystem,
// image config and attestations, with smith.yaml's probes passed.
func (b *build) platform(ctx context.Context, target ocispecs.Platform) (*dockerui.BuildResult, []client.Attestation, error) {
	gen, sources, err := b.generate(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	ref, err := b.solveRef(ctx, gen.State, target)
	if err != nil {
		return nil, nil, err
	}
	if err := b.runProbes(ctx, gen.Probes, target); err != nil {
		return nil, nil, err
	}
	atts, err := b.attestations(ctx, gen.Manifest, target, sources)
	if err != nil {
		return nil, nil, err
	}
	epoch := b.epoch
	return &dockerui.BuildResult{Reference: ref, Image: gen.Image, Epoch: &epoch}, atts, nil
}

// generate loads the images smith.yaml names for target and translates it
// into LLB; sources name what was loaded, for the SBOM.
func (b *build) generate(ctx context.Context, target ocispecs.Platform) (*llbgen.Result, []pkgdb.Source, error) {
	f := b.f
	var source llb.State
	var img *dockerspec.DockerOCIImage
	var installer llb.State
	var origin string
	var err error
	var sources []pkgdb.Source
	var locked []lock.Package
	if b.locked != nil {
		if locked, err = lockedPackages(b.locked, f, target); err != nil {
			return nil, nil, withSource(err, b.src.SourceMap)
		}
	}
	if f.Type.Value == config.TypeMock {
		if locked != nil && !llbgen.LockNeedsInstaller(f, locked, target, b.o.BuildPlatform) {
			// A locked build installs with the frontend image's rpm:
			// the installer is neither pulled nor asked for. It chose
			// the packages when the lock was made.
			origin = b.locked.Installer
		} else {
			// The installer runs natively (dnf --forcearch) unless
			// smith.yaml asks for emulation.
			installer, origin, err = b.loadInstaller(ctx, llbgen.InstallPlatform(f, target, b.o.BuildPlatform))
		}
		sources = append(sources, pkgdb.Source{Kind: "installer", Name: origin})
		for _, r := range f.Repos {
			sources = append(sources, pkgdb.Source{Kind: "repository", Name: config.Redact(r.BaseURL.Value)})
		}
	} else {
		source, img, origin, err = b.loadSource(ctx, target)
		if origin != "" {
			sources = append(sources, pkgdb.Source{Kind: "image", Name: origin})
		}
	}
	if err != nil {
		return nil, nil, withSource(err, b.src.SourceMap)
	}
	parent, parentImg, parentOrigin, err := b.loadParent(ctx, target)
	if err != nil {
		return nil, nil, withSource(err, b.src.SourceMap)
	}
	if parentOrigin != "" {
		sources = append(sources, pkgdb.Source{Kind: "parent", Name: parentOrigin})
	}
	install := llbgen.InstallInputs{Installer: installer, Context: b.installCtx, Locked: locked}
	gen, err := llbgen.Generate(f, llbgen.Options{
		Platform:      target,
		BuildPlatform: b.o.BuildPlatform,
		Source:        source,
		SourceImage:   img,
		Parent:        parent,
		ParentImage:   parentImg,
		Version:       Version,
		Labels:        b.o.Labels,
		Install:       install,
		Helper:        b.helper,
		Context:       b.rootfs,
		Epoch:         b.epoch,
		SourceMap:     b.src.SourceMap,
		IgnoreCache:   b.o.NoCache,
	})
	if err != nil {
		return nil, nil, withSource(err, b.src.SourceMap)
	}
	return gen, sources, nil
}

func first(l config.List) config.String {
	if len(l.Items) == 0 {
		return config.String{}
	}
	return l.Items[0]
}

// solveRef solves a state on its own, with the build's cache sources, and
// returns its single result.
func (b *build) solveRef(ctx context.Context, st llb.State, p ocispecs.Platform) (client.Reference, error) {
	return solveRef(ctx, b.r, st, p, b.o.CacheImports)
}

// solveRef solves a state on its own and returns its single result.
func solveRef(ctx context.Context, r Resolver, st llb.State, p ocispecs.Platform, cache []client.CacheOptionsEntry) (client.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return nil, fmt.Errorf("marshaling LLB: %w", err)
	}
	res, err := r.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: cache})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// runProbes runs smith.yaml's probes against the finished image, each in a
// solve of its own and all at once, so a failing probe does not cancel the
// others: every probe reports, in the progress, whether it passed. The
// error is the first failing probe's, in smith.yaml's order.
func (b *build) runProbes(ctx context.Context, probes []llb.State, p ocispecs.Platform) error {
	if !b.canRun(p) {
		return nil // warnUnprobed said so
	}
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, st := range probes {
		def, err := st.Marshal(ctx, llb.Platform(p))
		if err != nil {
			return fmt.Errorf("marshaling probes: %w", err)
		}
		wg.Go(func() {
			_, errs[i] = b.r.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: b.o.CacheImports, Evaluate: true})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// canRun tells whether the builder can run steps for p (natively or
// emulated).
func (b *build) canRun(p ocispecs.Platform) bool {
	if len(b.o.Runnable) == 0 {
		return true
	}
	p = platforms.Normalize(p)
	return slices.ContainsFunc(b.o.Runnable, func(q ocispecs.Platform) bool {
		q = platforms.Normalize(q)
		// The same architecture, an older variant too; and linux/386 on
		// linux/amd64, which every x86-64 Linux runs. (Not 32-bit arm on
		// arm64: many arm64 CPUs lack it, and BuildKit lists it when
		// they have it.)
		same := q.Architecture == p.Architecture || q.Architecture == "amd64" && p.Architecture == "386"
		return same && platforms.Only(q).Match(p)
	})
}

// formatPlatforms names platforms, sep between them.
func formatPlatforms(ps []ocispecs.Platform, sep string) string {
	var s []string
	for _, p := range ps {
		s = append(s, platforms.Format(p))
	}
	return strings.Join(s, sep)
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

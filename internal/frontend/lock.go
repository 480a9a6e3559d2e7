package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/lock"
)

// lockMode reads how the build treats smith.lock: "write" (--opt
// smith-lock=1, or the build-arg SMITH_LOCK=1 for buildx), "ignore", or
// "" (use it when the build context has one).
func lockMode(o options) (string, error) {
	v := o.Opts["smith-lock"]
	if v == "" {
		v = o.BuildArgs["SMITH_LOCK"]
	}
	switch strings.ToLower(v) {
	case "":
		return "", nil
	case "1", "true", "write":
		return "write", nil
	case "ignore", "0", "false":
		return "ignore", nil
	}
	return "", fmt.Errorf("smith-lock=%q: want 1 (write smith.lock) or ignore", v)
}

// readLock returns the build context's smith.lock, or nil when it has none.
func (b *build) readLock(ctx context.Context) (*lock.Lock, error) {
	data, err := b.r.ReadFile(ctx, lock.FileName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // none
	}
	if err != nil {
		return nil, err
	}
	return lock.Parse(data)
}

// checkLock checks, for --check, the smith.lock a build would use: made
// from this smith.yaml, with packages for every target platform, each from
// where smith.yaml lets it come.
func (b *build) checkLock(ctx context.Context) error {
	if b.f.Type.Value != config.TypeMock || b.mode != "" {
		return nil
	}
	l, err := b.readLock(ctx)
	if err != nil || l == nil {
		return err
	}
	for _, p := range b.targets() {
		if _, err := lockedPackages(l, b.f, p); err != nil {
			return withSource(err, b.src.SourceMap)
		}
	}
	return nil
}

// targets are the platforms the build is for, normalized: the client's,
// else the build platform.
func (b *build) targets() []ocispecs.Platform {
	ts := b.o.TargetPlatforms
	if len(ts) == 0 {
		ts = []ocispecs.Platform{b.o.BuildPlatform}
	}
	out := make([]ocispecs.Platform, len(ts))
	for i, p := range ts {
		out[i] = platforms.Normalize(p)
	}
	return out
}

// writeLock resolves the transaction for every target platform, as the
// build would, and returns smith.lock as the build's only file.
func (b *build) writeLock(ctx context.Context) (*client.Result, error) {
	f := b.f
	l := &lock.Lock{Version: lock.Version, Input: lock.Input(f), Arches: map[string][]lock.Package{}}
	for _, target := range b.targets() {
		installer, origin, err := b.loadInstaller(ctx, llbgen.InstallPlatform(f, target, b.o.BuildPlatform))
		if err != nil {
			return nil, err
		}
		l.Installer = b.pinInstaller(ctx, origin, target)
		st, err := llbgen.Resolve(f, llbgen.Options{Platform: target, BuildPlatform: b.o.BuildPlatform,
			Install: llbgen.InstallInputs{Installer: installer, Context: b.installCtx}, IgnoreCache: true})
		if err != nil {
			return nil, err
		}
		ref, err := b.solveRef(ctx, st, target)
		if err != nil {
			return nil, err
		}
		data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: llbgen.ResolveFile})
		if err != nil {
			return nil, fmt.Errorf("reading the resolved transaction: %w", err)
		}
		var pkgs []lock.Package
		if err := json.Unmarshal(data, &pkgs); err != nil {
			return nil, fmt.Errorf("decoding the resolved transaction: %w", err)
		}
		l.Arches[llbgen.RPMArch(target)] = pkgs
	}
	// What the build will read back must parse: a package from a source
	// smith cannot pin (a file:// repository of the installer) fails now.
	if _, err := lock.Parse(l.Render()); err != nil {
		return nil, fmt.Errorf("the resolved transaction cannot be locked: %w", err)
	}
	def, err := llb.Scratch().File(llb.Mkfile("/"+lock.FileName, 0o644, l.Render()),
		llb.WithCustomName("[smith] write "+lock.FileName)).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := b.r.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// lockedPackages returns the lock's packages for target, checking that the
// lock was made from this smith.yaml.
func lockedPackages(l *lock.Lock, f *config.File, target ocispecs.Platform) ([]lock.Package, error) {
	if err := l.Check(f); err != nil {
		return nil, err
	}
	arch := llbgen.RPMArch(target)
	pkgs, ok := l.Arches[arch]
	if !ok {
		return nil, errors.New(lock.FileName + " has no packages for " + arch +
			": refresh it for every platform you build (--opt smith-lock=1 with the same --opt platform=…)")
	}
	if err := lock.CheckOrigins(f, pkgs); err != nil {
		return nil, err
	}
	if pkgs == nil {
		pkgs = []lock.Package{}
	}
	return pkgs, nil
}

// pinInstaller names the installer by digest: loadInstaller gives a pinned
// reference, except for a named context, which is resolved here when it is
// an image.
func (b *build) pinInstaller(ctx context.Context, origin string, p ocispecs.Platform) string {
	ref, ok := strings.CutPrefix(b.o.Opts["context:"+llbgen.InstallerContext], "docker-image://")
	if !strings.HasPrefix(origin, "build context") || !ok {
		return origin
	}
	_, dgst, _, err := b.r.ResolveImageConfig(ctx, ref, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p}})
	if err != nil || dgst == "" {
		return origin
	}
	name, _, _ := strings.Cut(ref, "@")
	return name + "@" + dgst.String()
}

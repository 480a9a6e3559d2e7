package llbgen

import (
	"fmt"
	"strconv"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
)

// Mount points of the unpack steps.
const (
	archiveContext = "/smith/context"
	archiveOut     = "/smith/out"
	// ArchiveInspectFile holds {"config": …, "layers": N} in the output of
	// ArchiveInspect.
	ArchiveInspectFile = "/image.json"
)

// ArchiveInputs are what the unpack steps run on.
type ArchiveInputs struct {
	Archive config.Archive
	// Context holds the archive file (the build context, filtered).
	Context llb.State
	// Helper holds the smith binary at HelperPath.
	Helper        llb.State
	Platform      ocispecs.Platform // the image to pick
	BuildPlatform ocispecs.Platform // where the helper runs
	IgnoreCache   bool
	// MaxBytes bounds the decompressed archive and each layer; 0 is the
	// helper's default.
	MaxBytes int64
}

func (in ArchiveInputs) run(out llb.State, name string, args ...string) llb.State {
	file, err := config.ContextPath(in.Archive.File)
	if err != nil {
		file = in.Archive.File
	}
	argv := append([]string{HelperPath, "unpack",
		"--context", archiveContext, "--archive", file, "--name", in.Archive.File,
		"--platform", platforms.Format(in.Platform), "--tmp", "/tmp", "--out", archiveOut}, args...)
	if in.MaxBytes > 0 {
		argv = append(argv, "--max-bytes", strconv.FormatInt(in.MaxBytes, 10))
	}
	if in.Archive.Tag != "" {
		argv = append(argv, "--tag", in.Archive.Tag)
	}
	bp := in.BuildPlatform
	if bp.OS == "" {
		bp = in.Platform
	}
	opts := []llb.RunOption{
		llb.Args(argv),
		llb.AddMount(archiveContext, in.Context, llb.Readonly),
		// On disk, in the step's own scratch mount: a decompressed archive
		// may be large, and a tmpfs would take it from memory.
		llb.AddMount("/tmp", llb.Scratch()),
		llb.Network(pbNetNone),
		llb.Platform(bp),
		llb.WithCustomName(name),
	}
	if in.IgnoreCache {
		opts = append(opts, llb.IgnoreCache)
	}
	return in.Helper.Run(opts...).AddMount(archiveOut, out)
}

// ArchiveInspect returns a state holding ArchiveInspectFile, which the
// frontend reads to learn the image config and the number of layers.
func ArchiveInspect(in ArchiveInputs) llb.State {
	return in.run(llb.Scratch(), "[smith] read image archive "+in.Archive.File, "--inspect")
}

// ArchiveLayers unpacks the archive's n layers, each onto the one before,
// whiteouts honoured. It returns the whole root filesystem, to trace from,
// and the same content as n separate layers (each the difference to the one
// below), to stack on as a parent.
func ArchiveLayers(in ArchiveInputs, n int) (root, layered llb.State) {
	root = llb.Scratch()
	var diffs []llb.State
	for k := 0; k < n; k++ {
		next := in.run(root, fmt.Sprintf("[smith] unpack layer %d/%d of %s", k+1, n, in.Archive.File),
			"--layer", strconv.Itoa(k))
		diffs = append(diffs, llb.Diff(root, next))
		root = next
	}
	if n == 0 {
		return root, root
	}
	return root, llb.Merge(diffs, llb.WithCustomName("[smith] layers of "+in.Archive.File))
}

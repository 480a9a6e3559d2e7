package llbgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/protocol"
)

// Mount points of the unpack steps.
const (
	archiveContext = "/smith/context"
	archiveOut     = "/smith/out"
	archiveRequest = "/smith/request"
	// ArchiveInspectFile holds the protocol.Image in the output of
	// ArchiveInspect.
	ArchiveInspectFile = "/" + protocol.ImageFile
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

// run returns the unpack step that runs req (Inspect or Layer set) onto
// out.
func (in ArchiveInputs) run(out llb.State, name string, req protocol.Unpack) (llb.State, error) {
	file, err := config.ContextPath(in.Archive.File)
	if err != nil {
		file = in.Archive.File
	}
	req.Context, req.Archive, req.Name = archiveContext, file, in.Archive.File
	req.Tag, req.Platform = in.Archive.Tag, platforms.Format(in.Platform)
	req.TempDir, req.Out, req.MaxBytes = "/tmp", archiveOut, in.MaxBytes
	b, err := protocol.EncodeUnpack(req)
	if err != nil {
		return llb.State{}, fmt.Errorf("encoding the unpack request: %w", err)
	}
	bp := in.BuildPlatform
	if bp.OS == "" {
		bp = in.Platform
	}
	opts := []llb.RunOption{
		llb.Args([]string{HelperPath, "unpack", "--request", archiveRequest + "/unpack.json"}),
		// The request travels in a file, as the trace plan does.
		llb.AddMount(archiveRequest, llb.Scratch().File(llb.Mkfile("/unpack.json", 0o644, b, llb.WithCreatedTime(time.Unix(0, 0))),
			llb.WithCustomName("[smith] write the request to "+strings.TrimPrefix(name, "[smith] "))), llb.Readonly),
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
	return in.Helper.Run(opts...).AddMount(archiveOut, out), nil
}

// ArchiveInspect returns a state holding ArchiveInspectFile, which the
// frontend reads to learn the image config and the number of layers.
func ArchiveInspect(in ArchiveInputs) (llb.State, error) {
	return in.run(llb.Scratch(), "[smith] read image archive "+in.Archive.File, protocol.Unpack{Inspect: true})
}

// ArchiveLayers unpacks the archive's n layers, each onto the one before,
// whiteouts honoured. It returns the whole root filesystem, to trace from,
// and the same content as n separate layers (each the difference to the one
// below), to stack on as a parent.
func ArchiveLayers(in ArchiveInputs, n int) (root, layered llb.State, err error) {
	root = llb.Scratch()
	var diffs []llb.State
	for k := 0; k < n; k++ {
		next, err := in.run(root, fmt.Sprintf("[smith] unpack layer %d/%d of %s", k+1, n, in.Archive.File),
			protocol.Unpack{Layer: k})
		if err != nil {
			return llb.State{}, llb.State{}, err
		}
		diffs = append(diffs, llb.Diff(root, next))
		root = next
	}
	if n == 0 {
		return root, root, nil
	}
	return root, llb.Merge(diffs, llb.WithCustomName("[smith] layers of "+in.Archive.File)), nil
}

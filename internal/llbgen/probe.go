package llbgen

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/passwd"
	"github.com/smithbuild/smith/internal/protocol"
)

// Mount points of a probe step, inside the image under test. The helper and
// the source are there only for the probe: the image itself ships neither.
const (
	probeHelperMount = "/.smith-probe/helper"
	probeSrcMount    = "/.smith-probe/src"
	probeOutMount    = "/.smith-probe/out"
	probeSpecMount   = "/.smith-probe/spec"
)

// probes returns one step per smith.yaml probe: the helper runs the command
// under ptrace in the finished image (read-only root, the runtime user, the
// image's environment and working directory, no network unless asked) and
// fails when it does not behave as expected, naming the files it looked for
// that the source has and the image lacks. Each state is the probe's empty
// output; solving it runs the probe.
func probes(f *config.File, o Options, final llb.State, img *dockerspec.DockerOCIImage, u *passwd.Result) ([]llb.State, error) {
	var out []llb.State
	user := fmt.Sprintf("%d:%d", u.UID, u.GID)
	if f.Root.Value {
		user = "0:0"
	}
	dir := img.Config.WorkingDir
	if dir == "" {
		dir = "/"
	}
	for _, pr := range f.Probes {
		p := protocol.Probe{
			Origin: origin(f, pr.Pos, "probe", pr.Index),
			Args:   pr.Run.Values(),
			Exit:   pr.Exit,
			Output: pr.Output.Value,
			Stdin:  pr.Stdin.Value,
			Source: probeSrcMount,
		}
		b, err := protocol.EncodeProbe(p)
		if err != nil {
			return nil, fmt.Errorf("encoding probe: %w", err)
		}
		opts := []llb.RunOption{
			llb.Args([]string{probeHelperMount + HelperPath, "probe", "--spec", probeSpecMount + "/probe.json"}),
			llb.AddMount(probeSpecMount, llb.Scratch().File(llb.Mkfile("/probe.json", 0o644, b, llb.WithCreatedTime(o.Epoch)),
				llb.WithCustomName("[smith] write the probe")), llb.Readonly),
			llb.AddMount(probeHelperMount, o.Helper, llb.Readonly),
			llb.AddMount(probeSrcMount, o.Source, llb.Readonly),
			llb.ReadonlyRootFS(),
			llb.User(user),
			llb.Dir(dir),
			llb.Platform(o.Platform),
			llb.WithCustomName("[smith] probe " + strings.Join(p.Args, " ")),
		}
		for _, kv := range img.Config.Env {
			k, v, _ := strings.Cut(kv, "=")
			opts = append(opts, llb.AddEnv(k, v))
		}
		if !pr.Network.Value {
			opts = append(opts, llb.Network(pb.NetMode_NONE))
		}
		if r := rangeOf(pr.Pos); r != nil {
			opts = append(opts, o.SourceMap.Location(r))
		}
		if o.IgnoreCache {
			opts = append(opts, llb.IgnoreCache)
		}
		run := final.Run(opts...)
		out = append(out, run.AddMount(probeOutMount, llb.Scratch()))
	}
	return out, nil
}

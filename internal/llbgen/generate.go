package llbgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/passwd"
	"github.com/smithbuild/smith/internal/protocol"
)

// pbNetNone runs a step without network: the helper needs none.
const pbNetNone = pb.NetMode_NONE

// HelperPath is where the smith helper binary lives in the frontend image.
const HelperPath = "/smith-frontend"

// Skeleton lists the directories every microcontainer gets: /read for
// per-instance configuration, /write for data, /run for ephemeral files, and
// mount points for the runtime.
var Skeleton = []string{"/dev", "/proc", "/sys", "/read", "/write", "/run"}

// Mount points of the trace step. They live under one directory that no
// image uses, so they cannot collide with anything in the helper image.
const (
	srcMount     = "/smith/src"
	outMount     = "/smith/out"
	contextMount = "/smith/context"
)

// Options carries everything Generate needs from outside. Zero values
// default to a linux/amd64 target and epoch 0; Helper (and, for RPM builds,
// Install) must be set for the result to marshal.
type Options struct {
	// Platform is the target platform of the image.
	Platform ocispecs.Platform
	// BuildPlatform runs the helper natively; zero means Platform.
	BuildPlatform ocispecs.Platform
	// Source is the tree to take files from (an image for type oci).
	Source llb.State
	// SourceImage is Source's image config, or nil when unknown.
	SourceImage *dockerspec.DockerOCIImage
	// Parent, when smith.yaml names one, is the image whose layers go below
	// the microcontainer's; ParentImage is its config (nil when unknown).
	Parent      *llb.State
	ParentImage *dockerspec.DockerOCIImage
	// Version is the smith version recorded in the image's labels.
	Version string
	// Labels are added to the image's labels (the client's --label).
	Labels map[string]string
	// Install holds the inputs of the dnf step, for type mock.
	Install InstallInputs
	// Helper is a root filesystem holding the smith binary at HelperPath;
	// normally the frontend image itself.
	Helper llb.State
	// Context is the build context; only its rootfs/ folder is used.
	Context llb.State
	// Epoch stamps file mtimes and the image's created time; zero means
	// Unix time 0.
	Epoch time.Time
	// SourceMap, when set, attaches smith.yaml locations to the steps so a
	// failing step points at its line.
	SourceMap *llb.SourceMap
	// IgnoreCache marks every step as uncached (--no-cache).
	IgnoreCache bool
}

// Result is the generated build.
type Result struct {
	// State is the final image filesystem: one layer, above the parent's.
	State llb.State
	// Image is the OCI image config to export with it.
	Image *dockerspec.DockerOCIImage
	// Manifest holds ManifestFile: which package each file of the image
	// comes from (RPM builds, and sources with a dpkg database).
	Manifest llb.State
	// Probes are smith.yaml's probe steps; solving one runs it against
	// State and fails when it does not pass.
	Probes []llb.State
}

// ManifestFile is the package manifest's path in Result.Manifest.
const ManifestFile = "/package-manifest.json"

// Mount points of the trace step's metadata output and of its plan.
const (
	metaMount = "/smith/meta"
	planMount = "/smith/plan"
)

// Resolve returns the step that resolves f's RPM transaction as the build
// would, without installing: its state holds ResolveFile, from which the
// frontend writes smith.lock. The caller checks f.Lockable first.
func Resolve(f *config.File, o Options) (llb.State, error) {
	if o.BuildPlatform.OS == "" {
		o.BuildPlatform = o.Platform
	}
	in := o.Install
	in.Resolve = true
	_, meta, err := install(f, in, o)
	return meta, err
}

// Generate translates f, as config.Parse validated it, into LLB and an
// image config.
func Generate(f *config.File, o Options) (*Result, error) {
	if o.Platform.OS == "" {
		o.Platform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	}
	if o.BuildPlatform.OS == "" {
		o.BuildPlatform = o.Platform
	}
	if o.Epoch.IsZero() {
		o.Epoch = time.Unix(0, 0)
	}
	users, err := Users(f)
	if err != nil {
		return nil, err
	}
	var rpmMeta *llb.State
	if f.Type.Value == config.TypeMock {
		root, meta, err := install(f, o.Install, o)
		if err != nil {
			return nil, err
		}
		o.Source, o.SourceImage, rpmMeta = root, nil, &meta
	}
	p := HelperPlan(f, imageEnv(f, inherited(o.SourceImage, o.ParentImage)), users, o.Epoch)
	p.Manifest = metaMount + ManifestFile
	p.Record = !f.PackageDB.Set || f.PackageDB.Value
	p.Parent = f.Parent.Value != ""
	if rpmMeta != nil {
		p.RPM = &protocol.RPM{Record: recordIn(rpmMount)}
		for _, l := range o.Install.Locked {
			if p.RPM.Locked == nil {
				p.RPM.Locked = map[string]protocol.Pin{}
			}
			p.RPM.Locked[l.NEVRA] = protocol.Pin{URL: l.URL, SHA256: l.SHA256}
		}
	}
	planJSON, err := protocol.EncodePlan(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the helper plan: %w", err)
	}
	args := []string{HelperPath, "trace", "--root", srcMount, "--out", outMount, "--overlay", contextMount + "/rootfs",
		"--plan-file", planMount + "/plan.json"}
	runOpts := []llb.RunOption{
		llb.Args(args),
		llb.AddEnv("SOURCE_DATE_EPOCH", strconv.FormatInt(o.Epoch.Unix(), 10)),
		// The plan travels in a file: an environment variable holds at
		// most 128 KiB, a few thousand paths.
		llb.AddMount(planMount, llb.Scratch().File(llb.Mkfile("/plan.json", 0o644, planJSON, llb.WithCreatedTime(o.Epoch)),
			llb.WithCustomName("[smith] write the trace plan")), llb.Readonly),
		llb.AddMount(srcMount, o.Source, llb.Readonly),
		llb.AddMount(contextMount, o.Context, llb.Readonly),
		llb.Network(pbNetNone),
		llb.Platform(o.BuildPlatform),
		llb.WithCustomName(stepName(f)),
	}
	if r := listRange(f.Keys["paths"], f.Paths); r != nil {
		runOpts = append(runOpts, o.SourceMap.Location(r))
	}
	if o.IgnoreCache {
		runOpts = append(runOpts, llb.IgnoreCache)
	}
	if rpmMeta != nil {
		runOpts = append(runOpts, llb.AddMount(rpmMount, *rpmMeta, llb.Readonly))
	}
	run := o.Helper.Run(runOpts...)
	out := run.AddMount(outMount, llb.Scratch())
	manifest := run.AddMount(metaMount, llb.Scratch())
	if o.Parent != nil {
		// The parent's layers stay below ours, as separate layers.
		out = llb.Merge([]llb.State{*o.Parent, out}, llb.WithCustomName("[smith] stack on parent "+config.Redact(f.Parent.Value)))
	}
	img := ImageConfig(f, o, users)
	checks, err := probes(f, o, out, img, users)
	if err != nil {
		return nil, err
	}
	return &Result{State: out, Image: img, Manifest: manifest, Probes: checks}, nil
}

// HelperPlan is what the trace step does: copy the closure of paths, lay
// out the skeleton, volumes and working directory, generate the user
// database, and hand /write and /run to the runtime user.
// env is the image's environment, for its LD_LIBRARY_PATH.
func HelperPlan(f *config.File, env []string, u *passwd.Result, epoch time.Time) protocol.Plan {
	p := protocol.Plan{
		Trace:    TraceRequest(f, env),
		Mkdir:    dirsToCreate(f),
		Writable: []string{"/write", "/run"},
		Owner:    protocol.Owner{UID: u.UID, GID: u.GID},
		Epoch:    epoch.Unix(),
	}
	if f.Root.Value {
		p.Owner = protocol.Owner{}
	}
	// The runtime user always resolves: passwd and group are written unless
	// paths bring their own; smith.yaml's user, groups or nss: true make
	// them (and nsswitch.conf) win over the source's, as in smith.
	// nsswitch.conf otherwise comes only when a program looks something up.
	p.Files = []protocol.File{
		{Path: "/etc/passwd", Mode: 0o644, Data: u.Passwd, IfAbsent: !u.Generate},
		{Path: "/etc/group", Mode: 0o644, Data: u.Group, IfAbsent: !u.Generate},
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: u.NSSwitch, IfAbsent: !u.Generate},
	}
	if !u.Generate {
		p.Files[2].When = protocol.WhenNSS
	}
	p.Trace.Infer = inference(f, env)
	if f.NSS.Value {
		p.Trace.Modules = u.Modules
	}
	return p
}

// inference turns smith.yaml's nss, charsets, cacerts and dlopen into what
// the helper infers; unset fields leave it to smith.
func inference(f *config.File, env []string) closure.Infer {
	var in closure.Infer
	if f.NSS.Set {
		in.NSS = closure.Off
		if f.NSS.Value {
			in.NSS = closure.On
		}
	}
	if f.Charsets.Set {
		in.Charsets = f.Charsets.Values()
		if len(in.Charsets) == 0 {
			in.Gconv = closure.Off
		}
	}
	if f.CACerts.Set && !f.CACerts.Value {
		in.CACerts = closure.Off
	}
	in.Dlopen = closure.DlopenPriority(f.Dlopen.Value)
	in.Path = envDirs(env, "PATH")
	return in
}

// envDirs returns the absolute directories of the colon-separated variable
// name in env (NAME=VALUE items), every setting's in order.
func envDirs(env []string, name string) []string {
	var dirs []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			for _, d := range strings.Split(v, ":") {
				if strings.HasPrefix(d, "/") {
					dirs = append(dirs, d)
				}
			}
		}
	}
	return dirs
}

// TraceRequest builds the helper's request: the paths and excludes with
// their smith.yaml origins, and the library path the image's dynamic loader
// would see.
func TraceRequest(f *config.File, env []string) closure.Request {
	var req closure.Request
	for _, p := range f.Paths.Items {
		req.Paths = append(req.Paths, closure.Pattern{Glob: p.Value, Origin: origin(f, p.Pos, "paths", p.Index)})
	}
	for _, p := range f.Excludes.Items {
		req.Excludes = append(req.Excludes, closure.Pattern{Glob: p.Value, Origin: origin(f, p.Pos, "excludes", p.Index)})
	}
	req.LibraryPath = envDirs(env, "LD_LIBRARY_PATH")
	return req
}

// dirsToCreate lists the skeleton plus the directories smith.yaml implies:
// volumes and the working directory, so a read-only root can start.
func dirsToCreate(f *config.File) []string {
	dirs := append([]string{}, Skeleton...)
	for _, m := range f.Mounts.Items {
		dirs = append(dirs, m.Value)
	}
	if f.Dir.Value != "" {
		dirs = append(dirs, f.Dir.Value)
	}
	return dirs
}

func stepName(f *config.File) string {
	var ps []string
	for _, p := range f.Paths.Items {
		ps = append(ps, p.Value)
	}
	if len(ps) == 0 {
		return "[smith] assemble microcontainer (no paths)"
	}
	const max = 4
	if len(ps) > max {
		ps = append(ps[:max], fmt.Sprintf("+%d more", len(ps)-max))
	}
	return "[smith] trace and copy " + strings.Join(ps, " ")
}

// origin locates item index of the smith.yaml list field.
func origin(f *config.File, pos config.Pos, field string, index int) closure.Origin {
	name := f.Name
	if name == "" {
		name = "smith.yaml"
	}
	return closure.Origin{File: name, Line: pos.Line, Col: pos.Col, Field: field, Index: index}
}

// listRange covers a key and all its list items.
func listRange(key config.Pos, l config.List) []*pb.Range {
	ps := []config.Pos{key, l.Pos}
	for _, it := range l.Items {
		ps = append(ps, it.Pos)
	}
	return rangeOf(ps...)
}

// rangeOf returns a source range covering the given positions' lines, for
// attaching to an LLB op. Zero positions are skipped.
func rangeOf(ps ...config.Pos) []*pb.Range {
	var first, last int32
	for _, p := range ps {
		if p.Line == 0 {
			continue
		}
		l := int32(p.Line)
		if first == 0 || l < first {
			first = l
		}
		if l > last {
			last = l
		}
	}
	if first == 0 {
		return nil
	}
	return []*pb.Range{{Start: &pb.Position{Line: first}, End: &pb.Position{Line: last}}}
}

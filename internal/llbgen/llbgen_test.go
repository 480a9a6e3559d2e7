package llbgen

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
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

func parse(t *testing.T, yaml string) *config.File {
	t.Helper()
	f, err := config.Parse("smith.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestImageConfigInheritance(t *testing.T) {
	src := &dockerspec.DockerOCIImage{}
	src.Config.Entrypoint = []string{"/docker-entrypoint.sh"}
	src.Config.Cmd = []string{"nginx"}
	src.Config.Env = []string{"PATH=/usr/bin", "NGINX_VERSION=1"}
	src.Config.WorkingDir = "/srv"
	src.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	src.Config.Labels = map[string]string{"maintainer": "x"}
	src.Config.User = "101"
	src.Config.StopSignal = "SIGQUIT"
	epoch := time.Unix(1700000000, 0)

	t.Run("inherits what smith.yaml leaves out", func(t *testing.T) {
		img := ImageConfig(parse(t, "package: a/b\npaths: [/x]\n"), Options{SourceImage: src, Epoch: epoch,
			Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}, nil)
		c := img.Config
		if !slices.Equal(c.Entrypoint, src.Config.Entrypoint) || !slices.Equal(c.Cmd, src.Config.Cmd) ||
			!slices.Equal(c.Env, src.Config.Env) || c.WorkingDir != "/srv" || c.StopSignal != "SIGQUIT" {
			t.Errorf("not inherited: %+v", c)
		}
		if _, ok := c.ExposedPorts["80/tcp"]; !ok || c.Labels["maintainer"] != "x" {
			t.Errorf("ports/labels not inherited: %+v", c)
		}
		if c.User != DefaultUser {
			t.Errorf("User = %q: the source's user must not be inherited (smith runs non-root by default)", c.User)
		}
		if img.Architecture != "arm64" || img.Variant != "v8" || img.OS != "linux" {
			t.Errorf("platform = %+v", img.Platform)
		}
		if !img.Created.Equal(epoch) || len(img.History) != 1 || !img.History[0].Created.Equal(epoch) {
			t.Errorf("created/history not stamped with the epoch: %v %+v", img.Created, img.History)
		}
	})
	t.Run("smith.yaml wins", func(t *testing.T) {
		f := parse(t, `package: a/b
paths: [/x]
entrypoint: [/app]
cmd: []
env: [A=1]
dir: /work
ports: [8080]
labels: {a: 1}
user: "1000:1000"
mounts: [/data]
`)
		c := ImageConfig(f, Options{SourceImage: src}, nil).Config
		if !slices.Equal(c.Entrypoint, []string{"/app"}) || len(c.Cmd) != 0 || !slices.Equal(c.Env, []string{"A=1"}) {
			t.Errorf("entrypoint/cmd/env: %+v", c)
		}
		if c.WorkingDir != "/work" || c.User != "1000:1000" || c.Labels["a"] != "1" || len(c.Labels) != 2 {
			t.Errorf("dir/user/labels: %+v", c)
		}
		if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
			t.Errorf("ports: %v", c.ExposedPorts)
		}
		if _, ok := c.Volumes["/data"]; !ok {
			t.Errorf("volumes: %v", c.Volumes)
		}
	})
	t.Run("the definition is recorded without credentials", func(t *testing.T) {
		f := parse(t, "package: https://me:pw@reg.example/app:1\npaths: [/x]\n")
		c := ImageConfig(f, Options{Version: "v1.2.3", Labels: map[string]string{"build": "42"}}, nil).Config
		if c.Labels["build"] != "42" {
			t.Errorf("--label not applied: %v", c.Labels)
		}
		if c.Labels[LabelVersion] != "v1.2.3" {
			t.Errorf("version label = %q", c.Labels[LabelVersion])
		}
		def := c.Labels[LabelDefinition]
		if !strings.Contains(def, `"package":["https://reg.example/app:1"]`) || strings.Contains(def, "pw") {
			t.Errorf("definition label = %s", def)
		}
	})
	t.Run("a parent's config fills the rest, its user included", func(t *testing.T) {
		parent := &dockerspec.DockerOCIImage{}
		parent.Config.User = "1234"
		parent.Config.Volumes = map[string]struct{}{"/var/lib/x": {}}
		parent.Config.Env = []string{"FROM_PARENT=1"}
		parent.Config.Cmd = []string{"/parent-cmd"}
		parent.History = []ocispecs.History{{CreatedBy: "parent layer"}}
		img := ImageConfig(parse(t, "paths: []\n"), Options{ParentImage: parent}, nil)
		c := img.Config
		if c.User != "1234" || !slices.Equal(c.Env, parent.Config.Env) || !slices.Equal(c.Cmd, parent.Config.Cmd) {
			t.Errorf("not inherited from the parent: %+v", c)
		}
		if _, ok := c.Volumes["/var/lib/x"]; !ok {
			t.Errorf("volumes: %v", c.Volumes)
		}
		if len(img.History) != 2 || img.History[0].CreatedBy != "parent layer" {
			t.Errorf("history: %+v", img.History)
		}
		// The source image (package) comes first, then the parent.
		c = ImageConfig(parse(t, "paths: []\n"), Options{SourceImage: src, ParentImage: parent}, nil).Config
		if !slices.Equal(c.Cmd, src.Config.Cmd) || !slices.Equal(c.Env, src.Config.Env) || c.User != "1234" {
			t.Errorf("source/parent precedence: %+v", c)
		}
	})
	t.Run("an entrypoint drops the inherited cmd", func(t *testing.T) {
		c := ImageConfig(parse(t, "entrypoint: [/usr/bin/id]\n"), Options{SourceImage: src}, nil).Config
		if !slices.Equal(c.Entrypoint, []string{"/usr/bin/id"}) || c.Cmd != nil {
			t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
		}
	})
	t.Run("root wins over user", func(t *testing.T) {
		c := ImageConfig(parse(t, "user: \"5\"\nroot: true\n"), Options{}, nil).Config
		if c.User != "0:0" {
			t.Errorf("User = %q", c.User)
		}
	})
	t.Run("config JSON keeps the fields", func(t *testing.T) {
		// DockerOCIImage.Config shadows the embedded OCI config: make sure the
		// values land in the marshaled JSON.
		b, err := json.Marshal(ImageConfig(parse(t, "cmd: [/x]\n"), Options{}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"Cmd":["/x"]`)) {
			t.Errorf("Cmd missing from %s", b)
		}
	})
}

func TestTraceRequest(t *testing.T) {
	f := parse(t, "package: a/b\npaths:\n- /usr/bin/cat\n- \"\"\n- /lib/*.so\nexcludes: [/usr/share]\n")
	req := TraceRequest(f, []string{"LD_LIBRARY_PATH=/opt/lib:relative:/usr/local/lib"})
	want := closure.Request{
		Paths: []closure.Pattern{
			{Glob: "/usr/bin/cat", Origin: closure.Origin{File: "smith.yaml", Line: 3, Col: 3, Field: "paths", Index: 0}},
			{Glob: "/lib/*.so", Origin: closure.Origin{File: "smith.yaml", Line: 5, Col: 3, Field: "paths", Index: 2}},
		},
		Excludes:    []closure.Pattern{{Glob: "/usr/share", Origin: closure.Origin{File: "smith.yaml", Line: 6, Col: 12, Field: "excludes", Index: 0}}},
		LibraryPath: []string{"/opt/lib", "/usr/local/lib"},
	}
	got, _ := json.Marshal(req)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("request\n got %s\nwant %s", got, exp)
	}
}

// TestGenerate checks the shape of the LLB: one exec of the helper with the
// source read-only, network off, and the output mount as the result.
func TestGenerate(t *testing.T) {
	f := parse(t, "package: a/b\npaths: [/usr/bin/cat]\nmounts: [/data]\ndir: /work\n")
	res, err := Generate(f, Options{
		Source: llb.Image("docker.io/library/debian:bookworm"),
		Helper: llb.Image("example.com/smith:test"),
		Epoch:  time.Unix(42, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var execs []*pb.ExecOp
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil {
			execs = append(execs, e)
		}
	}
	if len(execs) != 1 {
		t.Fatalf("got %d exec ops, want 1", len(execs))
	}
	e := execs[0]
	args := strings.Join(e.Meta.Args, " ")
	for _, want := range []string{HelperPath + " trace", "--root " + srcMount, "--out " + outMount} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	p := planOf(t, res)
	if p.Epoch != 42 || len(p.Trace.Paths) != 1 || p.Trace.Paths[0].Glob != "/usr/bin/cat" ||
		!slices.Equal(p.Mkdir, []string{"/dev", "/proc", "/sys", "/read", "/write", "/run", "/data", "/work"}) ||
		!slices.Equal(p.Writable, []string{"/write", "/run"}) || p.Owner != (protocol.Owner{UID: 10, GID: 10}) {
		t.Errorf("plan = %+v", p)
	}
	if e.Network != pb.NetMode_NONE {
		t.Errorf("network = %v, want none", e.Network)
	}
	mounts := map[string]*pb.Mount{}
	for _, m := range e.Mounts {
		mounts[m.Dest] = m
	}
	if m := mounts[srcMount]; m == nil || !m.Readonly {
		t.Errorf("source mount missing or writable: %+v", m)
	}
	if m := mounts[outMount]; m == nil || m.Readonly || m.Output < 0 {
		t.Errorf("output mount: %+v", m)
	}

	// Same input, same bytes.
	def2, err := res.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(def.Def) != len(def2.Def) {
		t.Fatal("definition size differs between marshals")
	}
	for i := range def.Def {
		if !bytes.Equal(def.Def[i], def2.Def[i]) {
			t.Fatal("marshal is not deterministic")
		}
	}
}

func TestUsers(t *testing.T) {
	f := parse(t, "user: web:www\ngroups: [adm, www]\nnss: true\n")
	u, err := Users(f)
	if err != nil {
		t.Fatal(err)
	}
	p := HelperPlan(f, nil, u, time.Unix(0, 0))
	if len(p.Files) != 3 || p.Files[0].Path != "/etc/passwd" || !strings.Contains(p.Files[0].Data, "web:x:") {
		t.Errorf("files = %+v", p.Files)
	}
	if !slices.Contains(p.Trace.Modules, "libnss_files.so.2") {
		t.Errorf("nss: true did not ask for the NSS modules: %v", p.Trace.Modules)
	}
	if p.Owner.UID != u.UID || p.Owner.GID != u.GID {
		t.Errorf("owner %+v, want %d:%d", p.Owner, u.UID, u.GID)
	}
	if c := ImageConfig(f, Options{}, u).Config; c.User != "web:www" {
		t.Errorf("User = %q, want the spec verbatim", c.User)
	}
	// Without nss: true the files are written, but no modules traced.
	if p := HelperPlan(parse(t, "user: web\n"), nil, mustUsers(t, "user: web\n"), time.Unix(0, 0)); len(p.Trace.Modules) != 0 || len(p.Files) != 3 {
		t.Errorf("user: web plan = %+v", p)
	}
	// root: true runs as 0:0 and hands nothing to another user; the user
	// database is still there, yielding to one the paths bring.
	if p := HelperPlan(parse(t, "root: true\n"), nil, mustUsers(t, "root: true\n"), time.Unix(0, 0)); p.Owner != (protocol.Owner{}) || len(p.Files) != 3 || !p.Files[0].IfAbsent {
		t.Errorf("root plan = %+v", p)
	}
	// With nothing said, passwd and group name the default user, and
	// nsswitch.conf waits for a program that looks something up.
	p = HelperPlan(parse(t, "paths: [/x]\npackage: img\n"), nil, mustUsers(t, ""), time.Unix(0, 0))
	if len(p.Files) != 3 || !strings.Contains(p.Files[0].Data, "smith:x:10:10:") || !strings.Contains(p.Files[1].Data, "smith:x:10:") ||
		!p.Files[0].IfAbsent || p.Files[2].When != protocol.WhenNSS || p.Trace.Infer.NSS != closure.Auto {
		t.Errorf("default plan = %+v", p)
	}
	if p := HelperPlan(parse(t, "user: \"1000:1000\"\n"), nil, mustUsers(t, "user: \"1000:1000\"\n"), time.Unix(0, 0)); !strings.Contains(p.Files[0].Data, "smith:x:1000:1000:") {
		t.Errorf("numeric user has no entry: %+v", p.Files[0])
	}
}

func TestInference(t *testing.T) {
	env := []string{"PATH=/usr/local/bin:relative:/usr/bin", "LD_LIBRARY_PATH=/opt/lib"}
	for _, tc := range []struct {
		yaml string
		want closure.Infer
	}{
		{"", closure.Infer{Path: []string{"/usr/local/bin", "/usr/bin"}}},
		{"nss: true\n", closure.Infer{NSS: closure.On, Path: []string{"/usr/local/bin", "/usr/bin"}}},
		{"nss: false\ncacerts: false\ncharsets: []\ndlopen: none\n", closure.Infer{NSS: closure.Off, CACerts: closure.Off,
			Gconv: closure.Off, Dlopen: closure.DlopenNone, Path: []string{"/usr/local/bin", "/usr/bin"}}},
		{"charsets: [latin1, all]\ndlopen: Recommended\n", closure.Infer{Charsets: []string{"latin1", "all"},
			Dlopen: closure.DlopenRecommended, Path: []string{"/usr/local/bin", "/usr/bin"}}},
	} {
		if got := inference(parse(t, tc.yaml), env); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: inference = %+v, want %+v", tc.yaml, got, tc.want)
		}
	}
}

func mustUsers(t *testing.T, yaml string) *passwd.Result {
	t.Helper()
	u, err := Users(parse(t, yaml))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestGenerateParent(t *testing.T) {
	parent := llb.Image("example.com/base:1")
	res, err := Generate(parse(t, "package: a/b\npaths: [/x]\nparent: base\n"),
		Options{Source: llb.Scratch(), Helper: llb.Scratch(), Parent: &parent})
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	merges := 0
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if m := op.GetMerge(); m != nil {
			merges++
			if len(m.Inputs) != 2 {
				t.Errorf("merge of %d inputs, want parent + layer", len(m.Inputs))
			}
		}
	}
	if merges != 1 {
		t.Errorf("%d merge ops, want 1", merges)
	}
}

func TestZeroEpochIsUnixZero(t *testing.T) {
	f := parse(t, "package: a/b\npaths: [/x]\n")
	res, err := Generate(f, Options{Source: llb.Scratch(), Helper: llb.Scratch()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image.Created.Unix() != 0 {
		t.Errorf("created = %v, want Unix 0", res.Image.Created)
	}
	def, err := res.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bytes.Join(def.Def, nil), []byte("SOURCE_DATE_EPOCH=0")) {
		t.Error("the trace step does not get SOURCE_DATE_EPOCH=0")
	}
}

func TestGenerateNoCache(t *testing.T) {
	f := parse(t, "package: a/b\npaths: [/x]\n")
	res, err := Generate(f, Options{Source: llb.Scratch(), Helper: llb.Scratch(), IgnoreCache: true})
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, md := range def.Metadata {
		if md.IgnoreCache {
			found = true
		}
	}
	if !found {
		t.Error("IgnoreCache did not mark the trace step")
	}
}

// planOf returns the helper plan the trace step reads from its plan mount.
func planOf(t *testing.T, res *Result) protocol.Plan {
	t.Helper()
	files := mkfiles(t, res.Manifest, "/plan.json")
	if len(files) == 0 {
		t.Fatal("no /plan.json in the trace step's inputs")
	}
	p, err := protocol.DecodePlan(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mkfiles returns what the file ops of st write at path: the requests
// helper steps read from their mounts.
func mkfiles(t *testing.T, st llb.State, path string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, op := range ops(t, st) {
		for _, a := range op.GetFile().GetActions() {
			if mk := a.GetMkfile(); mk != nil && mk.Path == path {
				out = append(out, mk.Data)
			}
		}
	}
	return out
}

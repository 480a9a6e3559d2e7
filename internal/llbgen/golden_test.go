package llbgen

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/opencontainers/go-digest"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/golden"
)

// opDump is a readable, stable summary of one LLB op.
type opDump struct {
	Kind     string            `json:"kind"`
	Name     string            `json:"name,omitempty"`
	Args     []string          `json:"args,omitempty"`
	Env      []string          `json:"env,omitempty"`
	Mounts   []string          `json:"mounts,omitempty"`
	Source   string            `json:"source,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Files    []string          `json:"files,omitempty"`
	Platform string            `json:"platform,omitempty"`
	Network  string            `json:"network,omitempty"`
}

// dumpLLB renders a state's definition op by op, in the order Marshal
// gives (which is deterministic), with file data left out.
func dumpLLB(t *testing.T, st llb.State) []byte {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []opDump
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		d := opDump{}
		if md, ok := def.Metadata[digestOf(dt)]; ok {
			d.Name = md.Description["llb.customname"]
		}
		if p := op.GetPlatform(); p != nil {
			d.Platform = p.OS + "/" + p.Architecture
		}
		switch {
		case op.GetExec() != nil:
			e := op.GetExec()
			d.Kind, d.Args, d.Env = "exec", e.Meta.Args, e.Meta.Env
			d.Network = e.Network.String()
			for _, m := range e.Mounts {
				d.Mounts = append(d.Mounts, m.Dest+" "+m.MountType.String())
			}
		case op.GetSource() != nil:
			d.Kind, d.Source = "source", op.GetSource().Identifier
			for k, v := range op.GetSource().Attrs {
				if k == "local.unique" {
					continue // random per llb.Local call
				}
				if d.Attrs == nil {
					d.Attrs = map[string]string{}
				}
				d.Attrs[k] = v
			}
		case op.GetFile() != nil:
			d.Kind = "file"
			for _, a := range op.GetFile().Actions {
				switch {
				case a.GetMkfile() != nil:
					d.Files = append(d.Files, "mkfile "+a.GetMkfile().Path)
				case a.GetMkdir() != nil:
					d.Files = append(d.Files, "mkdir "+a.GetMkdir().Path)
				case a.GetCopy() != nil:
					d.Files = append(d.Files, "copy "+a.GetCopy().Src+" "+a.GetCopy().Dest)
				}
			}
		case op.GetMerge() != nil:
			d.Kind = "merge"
		case op.GetDiff() != nil:
			d.Kind = "diff"
		default:
			d.Kind = "other"
		}
		out = append(out, d)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenExamples: the LLB and image config of each example.
func TestGoldenExamples(t *testing.T) {
	for _, ex := range []string{"hello", "httpd"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", ex, "smith.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := config.Parse("smith.yaml", b)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Generate(f, Options{
			Source: llb.Image("example.com/source:1"), Helper: llb.Image("example.com/smith@sha256:" + strings.Repeat("0", 64)),
			Context: llb.Local("context"), Epoch: time.Unix(1700000000, 0), Version: "golden",
			Install: InstallInputs{Installer: llb.Image("example.com/installer:1"), Context: llb.Local("context")},
		})
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, ex+".llb.json", dumpLLB(t, res.Manifest))
		img, err := json.MarshalIndent(res.Image, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, ex+".image.json", append(img, '\n'))
	}
}

// TestGoldenInstall: the install script, the repository files and the
// helper plan of an RPM build.
func TestGoldenInstall(t *testing.T) {
	f := parse(t, rpmYAML)
	res, err := Generate(f, Options{
		Helper:  llb.Image("example.com/smith:test"),
		Install: InstallInputs{Installer: llb.Image("example.com/installer:1"), Context: llb.Local("context")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var files strings.Builder
	for _, op := range ops(t, res.Manifest) {
		if fo := op.GetFile(); fo != nil {
			for _, a := range fo.Actions {
				if mk := a.GetMkfile(); mk != nil && mk.Path != "/plan.json" {
					files.WriteString("==> " + mk.Path + "\n" + string(mk.Data))
				}
			}
		}
	}
	golden.Check(t, "install.txt", []byte(files.String()))
	p, err := json.MarshalIndent(planOf(t, res), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "rpm.plan.json", append(p, '\n'))
}

// TestGoldenUsers: passwd and group for a named user with groups.
func TestGoldenUsers(t *testing.T) {
	for name, yaml := range map[string]string{"default": "", "web": "user: web:www\ngroups: [adm, www]\n", "numeric": "user: \"1000:2000\"\n"} {
		u := mustUsers(t, yaml)
		golden.Check(t, "users-"+name+".txt", []byte("==> /etc/passwd\n"+u.Passwd+"==> /etc/group\n"+u.Group+"==> /etc/nsswitch.conf\n"+u.NSSwitch))
	}
}

func digestOf(dt []byte) digest.Digest { return digest.FromBytes(dt) }

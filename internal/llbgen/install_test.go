package llbgen

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/lock"
	"github.com/smithbuild/smith/internal/protocol"
)

const rpmYAML = `package: [./rpms/*.rpm, httpd]
mock: {deps: [bash]}
releasever: "9"
repos:
- name: remote
  baseurl: http://repo.example/el9/
  gpgkey: https://repo.example/KEY
- name: folder
  baseurl: ./repo
  gpgkey: ./keys/KEY
- name: nocheck
  baseurl: ./repo2
  gpgcheck: false
paths: [/usr/sbin/httpd]
`

// ops decodes a definition into its ops, by digest order.
func ops(t *testing.T, st llb.State) []*pb.Op {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []*pb.Op
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		out = append(out, &op)
	}
	return out
}

func TestInstall(t *testing.T) {
	f := parse(t, rpmYAML)
	if got := ContextFiles(f); !slices.Equal(got, []string{"keys/KEY", "repo", "repo2", "rpms/*.rpm"}) {
		t.Errorf("ContextFiles = %q", got)
	}
	res, err := Generate(f, Options{
		Helper:  llb.Image("example.com/smith:test"),
		Install: InstallInputs{Installer: llb.Image("example.com/installer:1"), Context: llb.Local("context")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var dnf, trace *pb.ExecOp
	files := map[string]string{}
	for _, op := range ops(t, res.Manifest) {
		if e := op.GetExec(); e != nil {
			if e.Meta.Args[0] == "/bin/sh" {
				dnf = e
			} else {
				trace = e
			}
		}
		if fo := op.GetFile(); fo != nil {
			for _, a := range fo.Actions {
				if mk := a.GetMkfile(); mk != nil {
					files[mk.Path] = string(mk.Data)
				}
			}
		}
	}
	if dnf == nil || trace == nil {
		t.Fatal("missing the dnf or the trace step")
	}
	for name, want := range map[string]string{
		"/remote.repo":  "[remote]\nname=remote\nbaseurl=http://repo.example/el9/\nenabled=1\ngpgcheck=1\ngpgkey=file:///smith/keys/0/key\n",
		"/folder.repo":  "[folder]\nname=folder\nbaseurl=file:///smith/context/repo\nenabled=1\ngpgcheck=1\ngpgkey=file:///smith/context/keys/KEY\n",
		"/nocheck.repo": "[nocheck]\nname=nocheck\nbaseurl=file:///smith/context/repo2\nenabled=1\ngpgcheck=0\n",
	} {
		if files[name] != want {
			t.Errorf("%s = %q, want %q", name, files[name], want)
		}
	}
	script := files["/install"]
	for _, want := range []string{
		"cp \"$r\" \"$repos/\"", // the installer's repos too, by default
		"cp /smith/repos.smith/*.repo \"$repos/\"",
		"rpm --root /smith/root --import '/smith/keys/0/key'",
		"for r in /smith/context/rpms/*.rpm;",
		"package: no RPM file in the build context matches ./rpms/*.rpm",
		"set -- \"$@\" 'bash'\nset -- \"$@\" 'httpd'\n", // mock.deps first
		"--setopt=install_weak_deps=False", "--setopt=tsflags=nodocs", "--setopt=cachedir=/var/cache/dnf",
		"--setopt=skip_if_unavailable=False", "--setopt=localpkg_gpgcheck=1",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("install script lacks %q:\n%s", want, script)
		}
	}
	if !slices.Contains(dnf.Meta.Env, "SMITH_RELEASEVER=9") {
		t.Errorf("env %q lacks the releasever", dnf.Meta.Env)
	}
	cache := false
	for _, m := range dnf.Mounts {
		if m.Dest == "/var/cache/dnf" && m.MountType == pb.MountType_CACHE && m.CacheOpt.Sharing == pb.CacheSharingOpt_LOCKED {
			cache = true
		}
	}
	if !cache {
		t.Error("dnf's cache is not on a locked cache mount")
	}
	p := planOf(t, res)
	if p.RPM == nil || p.RPM.Files != "/smith/rpm/files.tsv" || p.Manifest != "/smith/meta"+ManifestFile {
		t.Errorf("plan.RPM = %+v, plan.Manifest = %q", p.RPM, p.Manifest)
	}
}

func TestInstallOptions(t *testing.T) {
	f := parse(t, "package: [a.rpm]\ninstaller_repos: false\nlocalpkg_gpgcheck: false\n")
	res, err := Generate(f, Options{Helper: llb.Scratch(), Install: InstallInputs{Installer: llb.Scratch(), Context: llb.Scratch()}})
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, op := range ops(t, res.State) {
		if fo := op.GetFile(); fo != nil {
			for _, a := range fo.Actions {
				if mk := a.GetMkfile(); mk != nil && mk.Path == "/install" {
					script = string(mk.Data)
				}
			}
		}
	}
	if strings.Contains(script, "/etc/yum.repos.d") || !strings.Contains(script, "--setopt=localpkg_gpgcheck=0") ||
		strings.Contains(script, "--import") {
		t.Errorf("script ignores installer_repos/localpkg_gpgcheck:\n%s", script)
	}
	// Names dnf would misread are refused by config.Parse already.
	for bad, want := range map[string]string{
		"package: [\"it's\"]\n":            `smith.yaml:1:11: package[0]: "it's" is not a package name`,
		"package: [--nogpgcheck, httpd]\n": `smith.yaml:1:11: package[0]: "--nogpgcheck" is not a package name`,
	} {
		_, err := config.Parse("smith.yaml", []byte(bad))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: err = %v, want prefix %q", bad, err, want)
		}
	}
}

// installRequest is the install step's request to the helper in st.
func installRequest(t *testing.T, st llb.State) protocol.Install {
	t.Helper()
	for _, op := range ops(t, st) {
		for _, a := range op.GetFile().GetActions() {
			if mk := a.GetMkfile(); mk != nil && mk.Path == "/install.json" {
				in, err := protocol.DecodeInstall(mk.Data)
				if err != nil {
					t.Fatal(err)
				}
				return in
			}
		}
	}
	t.Fatal("no install request")
	return protocol.Install{}
}

// TestCrossInstall: an arm64 image built on amd64 runs dnf natively with
// --forcearch and no scriptlets, and has the helper say which were skipped; emulate: true
// runs the installer for the target instead.
func TestCrossInstall(t *testing.T) {
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		yaml      string
		target    ocispecs.Platform
		wantPlat  string
		wantCross bool
	}{
		{"package: httpd\n", arm64, "amd64", true},
		{"package: httpd\n", amd64, "amd64", false},
		{"package: httpd\nemulate: true\n", arm64, "arm64", false},
	} {
		f := parse(t, tc.yaml)
		res, err := Generate(f, Options{Platform: tc.target, BuildPlatform: amd64,
			Helper:  llb.Image("example.com/smith:test"),
			Install: InstallInputs{Installer: llb.Image("example.com/installer:1"), Context: llb.Local("context")}})
		if err != nil {
			t.Fatal(err)
		}
		var script string
		var dnf *pb.Op
		for _, op := range ops(t, res.Manifest) {
			if e := op.GetExec(); e != nil && e.Meta.Args[0] == "/bin/sh" {
				dnf = op
			}
			if fo := op.GetFile(); fo != nil {
				for _, a := range fo.Actions {
					if mk := a.GetMkfile(); mk != nil && mk.Path == "/install" {
						script = string(mk.Data)
					}
				}
			}
		}
		if dnf == nil || dnf.Platform.Architecture != tc.wantPlat {
			t.Errorf("%q for %s: dnf runs on %v, want %s", tc.yaml, tc.target.Architecture, dnf.GetPlatform(), tc.wantPlat)
		}
		req := installRequest(t, res.Manifest)
		cross := strings.Contains(script, "--forcearch=aarch64") && strings.Contains(script, "--setopt=tsflags=nodocs,noscripts,notriggers") &&
			req.Cross != nil && *req.Cross == protocol.Cross{Target: "aarch64", Build: "x86_64"}
		if cross != tc.wantCross {
			t.Errorf("%q for %s: cross install %v, want %v:\n%s", tc.yaml, tc.target.Architecture, cross, tc.wantCross, script)
		}
		if img := res.Image; img.Architecture != tc.target.Architecture {
			t.Errorf("image architecture %s", img.Architecture)
		}
	}
}

// TestRepoSecrets: credentials come in as BuildKit secrets mounted into the
// install step only; the repo files name the certificate's mount points, and
// no secret id's content is ever in the LLB.
func TestRepoSecrets(t *testing.T) {
	f := parse(t, `package: httpd
repos:
- {name: auth, baseurl: 'https://a.example/', gpgcheck: false, secret: repo-pass}
- {name: tls, baseurl: 'https://t.example/', gpgcheck: false, sslclientcert: tls-cert, sslclientkey: tls-key}
`)
	res, err := Generate(f, Options{Helper: llb.Scratch(), Install: InstallInputs{Installer: llb.Scratch(), Context: llb.Scratch()}})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	files := map[string]string{}
	for _, op := range ops(t, res.Manifest) {
		if e := op.GetExec(); e != nil && e.Meta.Args[0] == "/bin/sh" {
			for _, m := range e.Mounts {
				if m.MountType == pb.MountType_SECRET {
					secrets[m.Dest] = m.SecretOpt.ID
				}
				if m.Dest == "/smith/repos.d" && m.MountType != pb.MountType_TMPFS {
					t.Errorf("the repo files are not on a tmpfs: %v", m.MountType)
				}
			}
		}
		if fo := op.GetFile(); fo != nil {
			for _, a := range fo.Actions {
				if mk := a.GetMkfile(); mk != nil {
					files[mk.Path] = string(mk.Data)
				}
			}
		}
	}
	want := map[string]string{"/run/secrets/smith/0-auth": "repo-pass", "/run/secrets/smith/1-cert": "tls-cert", "/run/secrets/smith/1-key": "tls-key"}
	if len(secrets) != len(want) {
		t.Errorf("secret mounts %v, want %v", secrets, want)
	}
	for dst, id := range want {
		if secrets[dst] != id {
			t.Errorf("secret mounts %v, want %v", secrets, want)
		}
	}
	if r := files["/tls.repo"]; !strings.Contains(r, "sslclientcert=/run/secrets/smith/1-cert\n") || !strings.Contains(r, "sslclientkey=/run/secrets/smith/1-key\n") {
		t.Errorf("tls.repo:\n%s", r)
	}
	if s := files["/install"]; !strings.Contains(s, `IFS= read -r cred </run/secrets/smith/0-auth`) || !strings.Contains(s, `>>"$repos/auth.repo"`) {
		t.Errorf("install script does not add the credentials from the secret:\n%s", s)
	}
}

// TestProbeStep: a probe runs on a read-only root as the runtime user, with
// the image's working directory and no network unless it asks for it.
func TestProbeStep(t *testing.T) {
	f := parse(t, "package: img.example/x:1\npaths: [/x]\nuser: \"1000:1000\"\ndir: /srv\nprobe:\n- [/x]\n- {run: [/x, net], network: true}\n")
	res, err := Generate(f, Options{Source: llb.Scratch(), Helper: llb.Scratch()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Probes) != 2 {
		t.Fatalf("%d probe steps", len(res.Probes))
	}
	for i, want := range []pb.NetMode{pb.NetMode_NONE, pb.NetMode_UNSET} {
		var probe *pb.ExecOp
		for _, op := range ops(t, res.Probes[i]) {
			if e := op.GetExec(); e != nil && strings.HasSuffix(e.Meta.Args[0], "/smith-frontend") && e.Meta.Args[1] == "probe" {
				probe = e
			}
		}
		if probe == nil {
			t.Fatalf("probe[%d]: no probe exec", i)
		}
		root := probe.Mounts[0]
		if probe.Network != want || probe.Meta.User != "1000:1000" || probe.Meta.Cwd != "/srv" || root.Dest != "/" || !root.Readonly {
			t.Errorf("probe[%d]: network %v user %q cwd %q root %+v", i, probe.Network, probe.Meta.User, probe.Meta.Cwd, root)
		}
	}
}

// execByArg finds the exec op whose arguments contain arg, and the
// identifier of the source op its root filesystem comes from.
func execByArg(t *testing.T, st llb.State, arg string) (*pb.Op, string) {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byDigest := map[digest.Digest]*pb.Op{}
	var found *pb.Op
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		byDigest[digest.FromBytes(dt)] = &op
		if e := op.GetExec(); e != nil && slices.Contains(e.Meta.Args, arg) {
			found = &op
		}
	}
	if found == nil {
		t.Fatalf("no step runs %q", arg)
	}
	root := found.GetExec().Mounts[0]
	if root.Dest != "/" || root.Input < 0 {
		t.Fatalf("root mount %+v", root)
	}
	src := byDigest[digest.Digest(found.Inputs[root.Input].Digest)].GetSource()
	if src == nil {
		t.Fatal("the root is not a source")
	}
	return found, src.Identifier
}

// TestLockedInstall: a locked build installs in a step of its own, on the
// frontend image's rpm, with no network, each RPM its own checksummed
// source; the installer comes in only for its keys or to emulate.
func TestLockedInstall(t *testing.T) {
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	const yaml = "package: [smith-hello, ./local.rpm]\nrepos: [{name: fx, baseurl: 'http://r.example/', gpgkey: 'http://r.example/KEY'}, {name: plain, baseurl: 'http://p.example/', gpgcheck: false}]\n"
	const helperImage, installerImage = "docker-image://example.com/smith:test", "docker-image://example.com/installer:1"
	sum := strings.Repeat("a", 64)
	pkgs := []lock.Package{
		{NEVRA: "smith-hello-0:1-1.x86_64", Repo: "fx", URL: "http://r.example/h.rpm", SHA256: sum},
		{NEVRA: "plain-0:1-1.x86_64", Repo: "plain", URL: "http://p.example/p.rpm", SHA256: sum},
		{NEVRA: "local-0:1-1.x86_64", Repo: lock.LocalRepo, Path: "local.rpm", SHA256: sum},
	}
	for _, tc := range []struct {
		name, yaml      string
		pkgs            []lock.Package
		target          ocispecs.Platform
		root            string
		installer, keys bool
	}{
		{"own repos, unchecked local file", yaml + "localpkg_gpgcheck: false\n", pkgs, amd64, helperImage, false, false},
		{"a checked local file needs the installer's keys", yaml, pkgs, amd64, helperImage, true, true},
		{"installer_repos: false never needs them", yaml + "installer_repos: false\n", pkgs, amd64, helperImage, false, false},
		{"a package of the installer's repos", yaml + "localpkg_gpgcheck: false\n",
			append(slices.Clone(pkgs), lock.Package{NEVRA: "b-0:1-1.x86_64", Repo: "baseos", URL: "http://o.example/b.rpm", SHA256: sum}),
			amd64, helperImage, true, true},
		{"cross, natively", yaml + "localpkg_gpgcheck: false\n", pkgs, arm64, helperImage, false, false},
		{"emulated", yaml + "localpkg_gpgcheck: false\nemulate: true\n", pkgs, arm64, installerImage, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, tc.yaml)
			if got := LockNeedsInstaller(f, tc.pkgs, tc.target, amd64); got != tc.installer {
				t.Errorf("LockNeedsInstaller = %v, want %v", got, tc.installer)
			}
			res, err := Generate(f, Options{Platform: tc.target, BuildPlatform: amd64, Helper: llb.Image("example.com/smith:test"),
				Install: InstallInputs{Installer: llb.Image("example.com/installer:1"), Context: llb.Local("context"), Locked: tc.pkgs}})
			if err != nil {
				t.Fatal(err)
			}
			op, root := execByArg(t, res.Manifest, "install")
			e := op.GetExec()
			if root != tc.root {
				t.Errorf("the install step runs on %s, want %s", root, tc.root)
			}
			if e.Network != pb.NetMode_NONE {
				t.Errorf("the install step has network %v", e.Network)
			}
			mounts := map[string]bool{}
			for _, m := range e.Mounts {
				mounts[m.Dest] = true
			}
			if !mounts["/smith/locked/0"] || !mounts["/smith/locked/1"] || mounts["/smith/locked/2"] || !mounts["/smith/keys/0"] || !mounts["/smith/helper"] {
				t.Errorf("mounts %v", mounts)
			}
			req := installRequest(t, res.Manifest)
			if mounts["/smith/installer"] != tc.keys || (req.KeysFrom != "") != tc.keys || !slices.Equal(req.Keys, []string{"/smith/keys/0/key"}) {
				t.Errorf("keys %q from %q", req.Keys, req.KeysFrom)
			}
			if (req.Cross != nil) != (tc.target.Architecture == "arm64" && tc.root == helperImage) {
				t.Errorf("cross %+v", req.Cross)
			}
			if req.Context != "/smith/context" || len(req.Globs) != 1 || req.Globs[0] != (protocol.Glob{Pattern: "local.rpm", Name: "./local.rpm"}) {
				t.Errorf("local patterns %+v in %q", req.Globs, req.Context)
			}
			if len(req.Packages) != len(tc.pkgs) {
				t.Fatalf("packages %+v", req.Packages)
			}
			hello, plain, local := req.Packages[0], req.Packages[1], req.Packages[2]
			if hello.File != "/smith/locked/0/"+lock.RPMFileName || !hello.CheckSignature || hello.SHA256 != "" ||
				plain.CheckSignature || local.File != "/smith/context/local.rpm" || local.SHA256 != sum ||
				local.CheckSignature == strings.Contains(tc.yaml, "localpkg_gpgcheck: false") {
				t.Errorf("packages %+v", req.Packages)
			}
			if len(req.Packages) > 3 && !req.Packages[3].CheckSignature {
				t.Errorf("a package of the installer's repos is not checked: %+v", req.Packages[3])
			}
		})
	}
}

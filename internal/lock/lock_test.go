package lock

import (
	"strings"
	"testing"

	"github.com/smithbuild/smith/config"
)

func parse(t *testing.T, yaml string) *config.File {
	t.Helper()
	f, err := config.Parse("smith.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestInput(t *testing.T) {
	base := "package: [httpd]\nrepos: [{name: r, baseurl: 'https://r.example/', gpgkey: ./k}]\n"
	a := Input(parse(t, base+"paths: [/usr/sbin/httpd]\n"))
	// Moving lines, comments and non-RPM fields leave the input alone.
	if b := Input(parse(t, "# c\npaths: [/x]\ncmd: [y]\n"+base)); a != b {
		t.Errorf("input changed with paths/cmd/comments: %s vs %s", a, b)
	}
	for _, other := range []string{
		"package: [httpd, mod_ssl]\nrepos: [{name: r, baseurl: 'https://r.example/', gpgkey: ./k}]\n",
		"package: [httpd]\nrepos: [{name: r, baseurl: 'https://r2.example/', gpgkey: ./k}]\n",
		base + "releasever: \"9\"\n",
		base + "installer_repos: false\n",
	} {
		if Input(parse(t, other)) == a {
			t.Errorf("input did not change for %q", other)
		}
	}
}

func TestRenderParse(t *testing.T) {
	sum := strings.Repeat("a", 64)
	l := &Lock{Version: Version, Input: "sha256:x", Installer: "i@sha256:y", Arches: map[string][]Package{
		"x86_64":  {{NEVRA: "b-0:1-1.x86_64", Repo: "r", URL: "https://r/b.rpm", SHA256: sum}, {NEVRA: "a-0:1-1.x86_64", Repo: "r", URL: "https://r/a.rpm", SHA256: sum}},
		"aarch64": {{NEVRA: "l-0:1-1.aarch64", Repo: "@commandline", Path: "rpms/l.rpm", SHA256: sum}},
	}}
	out := string(l.Render())
	if strings.Index(out, `"aarch64"`) > strings.Index(out, `"x86_64"`) || strings.Index(out, "a-0:1-1") > strings.Index(out, "b-0:1-1") {
		t.Errorf("not in stable order:\n%s", out)
	}
	back, err := Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Render()) != out {
		t.Errorf("render(parse(render)) differs:\n%s", back.Render())
	}
	for bad, want := range map[string]string{
		`{"version": 2, "input": "x", "arches": {}}`: "version 2, want 1",
		`{"version": 1, "input": "x", "arches": {"x86_64": [{"nevra": "a-0:1-1.x86_64", "repo": "r", "url": "ftp://x", "sha256": "` + sum + `"}]}}`:               "is not a plain http(s) URL",
		`{"version": 1, "input": "x", "arches": {"x86_64": [{"nevra": "a-0:1-1.x86_64", "repo": "r", "path": "../x.rpm", "sha256": "` + sum + `"}]}}`:             "leaves the build context",
		`{"version": 1, "input": "x", "arches": {"x86_64": [{"nevra": "a-0:1-1.x86_64", "repo": "@commandline", "path": "rpms/a.rpm"}]}}`:                         "needs a sha256",
		`{"version": 1, "input": "x", "arches": {"x86_64": [{"nevra": "evil'; id; echo '", "repo": "r", "url": "https://r/a.rpm", "sha256": "` + sum + `"}]}}`:    "is not a NEVRA",
		`{"version": 1, "input": "x", "arches": {"x86_64": [{"nevra": "a-0:1-1.x86_64", "repo": "r", "url": "https://r/x';id;'.rpm", "sha256": "` + sum + `"}]}}`: "is not a plain http(s) URL",
		`{"version": 1, "input": "x", "arches": {"x86_64": [{"nevra": "a-0:1-1.x86_64", "repo": "r'", "url": "https://r/a.rpm", "sha256": "` + sum + `"}]}}`:      "is not a repository id",
		`{"version": 1, "input": "x", "extra": 1}`: "unknown field",
	} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", bad, err, want)
		}
	}
	f := parse(t, "package: httpd\nrepos: [{name: r, baseurl: ./repo, gpgcheck: false}]\n")
	if err := l.Check(f); err == nil || !strings.Contains(err.Error(), "smith.lock is stale") || !strings.Contains(err.Error(), "smith-lock=1") {
		t.Errorf("stale: %v", err)
	}
	l.Input = Input(f)
	if err := l.Check(f); err != nil {
		t.Error(err)
	}
}

// TestCheckOrigins: a package comes only from where smith.yaml lets it, so
// an edited lock cannot pass one off as a package of a repository whose
// signatures are not checked, or as a local file.
func TestCheckOrigins(t *testing.T) {
	f, err := config.Parse("smith.yaml", []byte(`package: [./rpms/*.rpm, a]
repos:
- {name: signed, baseurl: 'https://r.example/el9/$basearch/', gpgkey: 'https://r.example/KEY'}
- {name: plain, baseurl: 'https://p.example/repo', gpgcheck: false}
- {name: folder, baseurl: ./repo, gpgcheck: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("a", 64)
	ok := []Package{
		{NEVRA: "a-0:1-1.x86_64", Repo: "signed", URL: "https://r.example/el9/x86_64/a.rpm", SHA256: sum},
		{NEVRA: "b-0:1-1.x86_64", Repo: "plain", URL: "https://p.example/repo/b.rpm", SHA256: sum},
		{NEVRA: "c-0:1-1.x86_64", Repo: "folder", Path: "repo/Packages/c.rpm", SHA256: sum},
		{NEVRA: "l-0:1-1.x86_64", Repo: LocalRepo, Path: "rpms/l.rpm", SHA256: sum},
		{NEVRA: "i-0:1-1.x86_64", Repo: "baseos", URL: "https://o.example/i.rpm", SHA256: sum},
	}
	if err := CheckOrigins(f, ok); err != nil {
		t.Errorf("CheckOrigins: %v", err)
	}
	for _, tc := range []struct {
		p    Package
		want string
	}{
		{Package{NEVRA: "x-0:1-1.x86_64", Repo: "plain", URL: "https://evil.example/x.rpm"},
			"smith.lock: x-0:1-1.x86_64: its url https://evil.example/x.rpm is not under repository plain's baseurl https://p.example/repo"},
		{Package{NEVRA: "x-0:1-1.x86_64", Repo: "plain", URL: "https://p.example/repository/x.rpm"}, "is not under repository plain's baseurl"},
		{Package{NEVRA: "x-0:1-1.x86_64", Repo: LocalRepo, URL: "https://evil.example/x.rpm"}, "a local file, but its url https://evil.example/x.rpm matches no local RPM pattern"},
		{Package{NEVRA: "x-0:1-1.x86_64", Repo: LocalRepo, Path: "other/x.rpm"}, "a local file, but its path other/x.rpm matches no local RPM pattern"},
		{Package{NEVRA: "x-0:1-1.x86_64", Repo: "folder", Path: "repo2/x.rpm"}, "its path repo2/x.rpm is not inside repository folder's folder ./repo"},
		{Package{NEVRA: "x-0:1-1.x86_64", Repo: "folder", URL: "https://evil.example/x.rpm"}, "is not inside repository folder's folder"},
	} {
		err := CheckOrigins(f, []Package{tc.p})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), "; refresh the lock with --opt smith-lock=1") {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
	}
	// A repository whose secret goes along: its own host only, whatever
	// dnf variables its baseurl holds; the error is at its line.
	h, err := config.Parse("smith.yaml", []byte("package: a\nrepos:\n- {name: auth, baseurl: 'https://$host.example/el9/', gpgkey: 'https://k.example/KEY', secret: s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckOrigins(h, []Package{{NEVRA: "a-0:1-1.x86_64", Repo: "auth", URL: "https://evil.example/el9/a.rpm", SHA256: sum}})
	if err == nil || err.Error() != "smith.yaml:3:25: repos[0]: smith.lock fetches a-0:1-1.x86_64 from https://evil.example/el9/a.rpm, not from this repository's host: its secret is not sent there; refresh the lock" {
		t.Errorf("a secret sent elsewhere: %v", err)
	}
	g, err := config.Parse("smith.yaml", []byte("package: a\ninstaller_repos: false\nrepos: [{name: signed, baseurl: 'https://r.example/', gpgkey: 'https://r.example/KEY'}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckOrigins(g, ok[4:]); err == nil || !strings.Contains(err.Error(), `repository "baseos" is not in smith.yaml, and installer_repos is false`) {
		t.Errorf("an installer repository without installer_repos: %v", err)
	}
}

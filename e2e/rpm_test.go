package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// rpmFixtures are the fixture RPMs of hack/rpm-fixtures, built once per
// test run, and an HTTP server on 127.0.0.1 serving them.
type rpmFixtures struct {
	dir string // repo/, repo2/, local/, RPM-GPG-KEY-smith-{test,other}
	url string // the server's base URL
}

var (
	fixturesOnce sync.Once
	fixtures     *rpmFixtures
	fixturesErr  string
)

// expand replaces $REPO (the HTTP repo), $KEY and $OTHERKEY (key URLs).
func (fx *rpmFixtures) expand(yaml string) string {
	return strings.NewReplacer("$REPO", fx.url+"/repo/", "$OTHERKEY", fx.url+"/RPM-GPG-KEY-smith-other",
		"$KEY", fx.url+"/RPM-GPG-KEY-smith-test").Replace(yaml)
}

func getRPMFixtures(t *testing.T) *rpmFixtures {
	t.Helper()
	fixturesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "smith-rpm-fixtures-")
		if err != nil {
			fixturesErr = err.Error()
			return
		}
		out, err := exec.Command(filepath.Join(testEnv.root, "hack/rpm-fixtures"), dir).CombinedOutput()
		if err != nil {
			fixturesErr = "hack/rpm-fixtures: " + err.Error() + "\n" + string(out)
			return
		}
		srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
		fixtures = &rpmFixtures{dir: dir, url: srv.URL}
	})
	if fixtures == nil {
		t.Fatal(fixturesErr)
	}
	return fixtures
}

// rpmProject makes a project whose smith.yaml may use $REPO (the HTTP
// repo), $KEY and $OTHERKEY (key URLs), with the fixture folders copied
// into the build context as needed.
func rpmProject(t *testing.T, yaml string, rootfs map[string]string, contextDirs ...string) *project {
	t.Helper()
	fx := getRPMFixtures(t)
	p := newProject(t, fx.expand(yaml), rootfs)
	for _, d := range contextDirs {
		mustRun(t, "cp", "-a", filepath.Join(fx.dir, d), filepath.Join(p.dir, d))
	}
	return p
}

// installerOpt swaps in the Debian installer image hack/installer-image made.
func installerOpt() []string {
	return []string{"--opt", "context:installer=docker-image://" + testEnv.registry + "/test/dnf-installer:bookworm"}
}

// packageManifest reads smith's package manifest attestation out of the
// OCI tarball the image was exported to.
func packageManifest(t *testing.T, img *image) map[string]any {
	t.Helper()
	stmt := img.attestation(t, packageManifestType)
	if stmt == nil {
		t.Fatal("the image has no package-manifest attestation")
	}
	return stmt["predicate"].(map[string]any)
}

const packageManifestType = "https://smithbuild.github.io/attestations/package-manifest/v1"

// ownerOf returns the ID of the package owning file in a manifest.
func ownerOf(m map[string]any, file string) string {
	for _, p := range m["packages"].([]any) {
		pkg := p.(map[string]any)
		for _, f := range pkg["files"].([]any) {
			if f == file {
				return pkg["id"].(string)
			}
		}
	}
	return ""
}

// TestRPMFromRepo installs from a signed repository over HTTP and runs the
// result; the manifest names each file's package.
func TestRPMFromRepo(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, `package: smith-hello
repos:
- name: fixtures
  baseurl: $REPO
  gpgkey: $KEY
paths: [/usr/bin/smith-hello]
cmd: [/usr/bin/smith-hello]
`, nil)
	img, out := p.build(t, append(installerOpt(), "--opt", "attest:sbom=")...)
	if !strings.Contains(out, "[smith] dnf install smith-hello") {
		t.Errorf("no dnf step in the progress:\n%s", out)
	}
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Fatalf("run: %v %q %q", err, stdout, stderr)
	}
	for _, f := range img.paths() {
		if f == "/var/lib/rpm" || strings.HasPrefix(f, "/var/lib/rpm/") || strings.HasPrefix(f, "/var/lib/dnf") || f == "/bin/sh" {
			t.Errorf("%s should not be in the image", f)
		}
	}
	m := packageManifest(t, img)
	// smith-ldso lists /lib64/ld-linux-x86-64.so.2, as EL's glibc lists
	// its files; smith-filesystem makes /lib64 a link to usr/lib64, so the
	// image holds the loader at /usr/lib64, owned through the link.
	if h := img.files["/lib64"]; h == nil || h.Linkname != "usr/lib64" {
		t.Errorf("/lib64 should be smith-filesystem's link to usr/lib64: %+v", h)
	}
	for file, pkg := range map[string]string{
		"/usr/bin/smith-hello":            "smith-hello-0:1.0-1.el9.x86_64",
		"/usr/lib64/libgreet.so.1.0.0":    "smith-libgreet-0:1.0-1.el9.x86_64",
		"/usr/lib64/ld-linux-x86-64.so.2": "smith-ldso-0:1.0-1.el9.x86_64",
		"/lib64":                          "smith-filesystem-0:1.0-1.el9.x86_64",
	} {
		if got := ownerOf(m, file); got != pkg {
			t.Errorf("manifest: %s owned by %q, want %q\n%v", file, got, pkg, m)
		}
	}
	// Exact in both directions: every installed package that owns a
	// shipped file is listed, no other; only generated files are unowned.
	var ids []string
	for _, p := range m["packages"].([]any) {
		ids = append(ids, p.(map[string]any)["id"].(string))
	}
	if want := "smith-filesystem-0:1.0-1.el9.x86_64 smith-hello-0:1.0-1.el9.x86_64 smith-ldso-0:1.0-1.el9.x86_64 smith-libgreet-0:1.0-1.el9.x86_64"; strings.Join(ids, " ") != want {
		t.Errorf("contributing packages %q, want %q", ids, want)
	}
	if b, _ := json.Marshal([]any{m["unowned"], m["unused"]}); string(b) != `[["/etc/group","/etc/passwd","/var/lib/rpmmanifest/container-manifest-2"],[]]` {
		t.Errorf("unowned, unused = %s", b)
	}
	sbom := img.attestation(t, "https://spdx.dev/Document")
	if sbom == nil {
		t.Fatal("no SPDX attestation")
	}
	b, _ := json.Marshal(sbom["predicate"])
	if !strings.Contains(string(b), "pkg:rpm/smith-hello@1.0-1.el9?arch=x86_64") || strings.Contains(string(b), "smith-sh") {
		t.Errorf("SBOM: %s", b)
	}
}

// TestRPMLocalFileAndContextRepo installs a local RPM file together with
// repository packages (one from a context folder, unsigned, with gpgcheck
// off), runs both programs, and sees the %post scriptlet's file.
func TestRPMLocalFileAndContextRepo(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, `package:
- ./local/smith-local-*.rpm
- smith-filereq
- smith-post
- smith-unsigned
repos:
- name: fixtures
  baseurl: $REPO
  gpgkey: $KEY
- name: folder
  baseurl: ./repo2
  gpgcheck: false
paths: [/usr/bin/smith-local, /usr/bin/smith-filereq, /bin/sh, /etc/smith-post.conf, /usr/share/smith-unsigned]
cmd: [/usr/bin/smith-local]
`, map[string]string{"read/data": "x\n"}, "local", "repo2")
	img, _ := p.build(t, installerOpt()...)
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "Hello from libgreet.so.1, smith-local!\n" {
		t.Fatalf("smith-local: %v %q %q", err, stdout, stderr)
	}
	stdout, stderr, err = img.run(t, "/usr/bin/smith-filereq")
	if err != nil || !strings.Contains(stdout, "Hello from smith-filereq") {
		t.Errorf("smith-filereq: %v %q %q", err, stdout, stderr)
	}
	if got := string(img.data["/etc/smith-post.conf"]); got != "configured\n" {
		t.Errorf("/etc/smith-post.conf = %q: the %%post scriptlet did not run", got)
	}
	m := packageManifest(t, img)
	if got := ownerOf(m, "/usr/bin/smith-local"); !strings.HasPrefix(got, "smith-local-") {
		t.Errorf("/usr/bin/smith-local owned by %q", got)
	}
	unowned, _ := json.Marshal(m["unowned"])
	if !strings.Contains(string(unowned), "/etc/smith-post.conf") || !strings.Contains(string(unowned), "/read/data") {
		t.Errorf("unowned = %s", unowned)
	}
	unused, _ := json.Marshal(m["unused"])
	if !strings.Contains(string(unused), "smith-post-") {
		t.Errorf("smith-post owns no image file (only its scriptlet's output does), so it is unused: %s", unused)
	}
}

// TestRPMLocalOnly installs RPM files from the build context alone, with no
// repository at all.
func TestRPMLocalOnly(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, `package: ./rpms/*.rpm
installer_repos: false
localpkg_gpgcheck: false
paths: [/usr/bin/smith-local]
cmd: [/usr/bin/smith-local]
`, nil)
	copyLocalRPMs(t, p.dir)
	img, _ := p.build(t, installerOpt()...)
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "Hello from libgreet.so.1, smith-local!\n" {
		t.Fatalf("run: %v %q %q", err, stdout, stderr)
	}
}

// TestRPMCache: changing only rootfs/ or cmd, or moving lines around in
// smith.yaml, does not reinstall.
func TestRPMCache(t *testing.T) {
	requireE2E(t)
	yaml := "package: [./local/smith-local-*.rpm]\nrepos: [{name: fixtures, baseurl: $REPO, gpgkey: $KEY}]\npaths: [/usr/bin/smith-local]\n"
	p := rpmProject(t, yaml+"cmd: [/usr/bin/smith-local]\n", map[string]string{"read/a": "1\n"}, "local")
	p.build(t, installerOpt()...)
	must(t, os.WriteFile(filepath.Join(p.dir, "rootfs/read/a"), []byte("2\n"), 0o644))
	y := getRPMFixtures(t).expand(yaml)
	must(t, os.WriteFile(filepath.Join(p.dir, "smith.yaml"),
		[]byte("# syntax="+testEnv.frontend+"\n# a comment that moves every line down\n"+y+"cmd: [/usr/bin/smith-local, again]\n"), 0o644))
	img, out := p.build(t, installerOpt()...)
	if !stepCached(t, out, "[smith] dnf install") {
		t.Errorf("a rootfs/, cmd and line-position change reinstalled the packages:\n%s", out)
	}
	if string(img.data["/read/a"]) != "2\n" {
		t.Errorf("the rootfs/ change is missing")
	}
}

// TestRPMManifestLocalOutput: with --output type=local the manifest lands
// beside the files as package-manifest.json.
func TestRPMManifestLocalOutput(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, "package: smith-hello\nrepos: [{name: f, baseurl: $REPO, gpgkey: $KEY}]\npaths: [/usr/bin/smith-hello]\n", nil)
	dest := t.TempDir()
	out, err := buildctl(t, append([]string{"build", "--frontend", "gateway.v0", "--opt", "source=" + testEnv.frontend,
		"--local", "context=" + p.dir, "--local", "dockerfile=" + p.dir, "--opt", "filename=smith.yaml",
		"--output", "type=local,dest=" + dest}, installerOpt()...)...)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dest, "package-manifest.json"))
	must(t, err)
	var stmt map[string]any
	must(t, json.Unmarshal(b, &stmt))
	if stmt["predicateType"] != packageManifestType ||
		ownerOf(stmt["predicate"].(map[string]any), "/usr/bin/smith-hello") != "smith-hello-0:1.0-1.el9.x86_64" {
		t.Errorf("package-manifest.json = %s", b)
	}
}

// TestRPMErrors: dnf's reason and the smith.yaml line reach the user.
func TestRPMErrors(t *testing.T) {
	requireE2E(t)
	for _, tc := range []struct {
		name, yaml string
		want       []string
		dirs       []string // fixture files copied into the context
	}{{
		name: "bad signature",
		yaml: "package: smith-hello\nrepos:\n- name: fixtures\n  baseurl: $REPO\n  gpgkey: $OTHERKEY\n",
		want: []string{"Error: GPG check FAILED", "Failing package is: smith-hello-1.0-1.el9.x86_64", ">>> package: smith-hello"},
	}, {
		name: "missing package",
		yaml: "package: [smith-hello, smith-nope]\nrepos: [{name: fixtures, baseurl: $REPO, gpgkey: $KEY}]\n",
		want: []string{"Error: Unable to find a match: smith-nope", "smith.yaml:2", ">>> package: [smith-hello, smith-nope]"},
	}, {
		name: "unreachable repo",
		yaml: "package: smith-hello\nrepos: [{name: gone, baseurl: 'http://127.0.0.1:9/repo/', gpgkey: $KEY}]\n",
		want: []string{"Failed to download metadata for repo 'gone'", ">>> repos: [{name: gone"},
	}, {
		name: "unsatisfiable dependency",
		yaml: "package: ./local/smith-local-*.rpm\nlocalpkg_gpgcheck: false\nrepos: [{name: folder, baseurl: ./repo2, gpgcheck: false}]\n",
		want: []string{"nothing provides libgreet.so.1()(64bit) needed by smith-local-1.0-1.el9.x86_64", ">>> package: ./local/smith-local-*.rpm"},
		dirs: []string{"local", "repo2"},
	}, {
		name: "unsigned package",
		yaml: "package: smith-unsigned\nrepos: [{name: folder, baseurl: ./repo2, gpgkey: ./RPM-GPG-KEY-smith-test}]\n",
		want: []string{"Package smith-unsigned-1.0-1.el9.x86_64.rpm is not signed", "Error: GPG check FAILED"},
		dirs: []string{"repo2", "RPM-GPG-KEY-smith-test"},
	}, {
		name: "local RPM with the wrong key",
		yaml: "package: ./local/smith-local-*.rpm\nrepos: [{name: fixtures, baseurl: $REPO, gpgkey: $OTHERKEY}]\n",
		want: []string{"Public key for smith-local-1.0-1.el9.x86_64.rpm is not installed", "Error: GPG check FAILED"},
		dirs: []string{"local"},
	}, {
		name: "missing local file",
		yaml: "package: ./rpms/nothing-*.rpm\nrepos: [{name: fixtures, baseurl: $REPO, gpgkey: $KEY}]\n",
		want: []string{"package: no RPM file in the build context matches ./rpms/nothing-*.rpm", ">>> package: ./rpms/nothing-*.rpm"},
	}, {
		name: "repo without a key",
		yaml: "package: smith-hello\nrepos: [{name: fixtures, baseurl: $REPO}]\n",
		want: []string{"smith.yaml:3:9: repos[0]: gpgcheck is on but no gpgkey is given"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := rpmProject(t, tc.yaml, nil, tc.dirs...)
			_, out, err := p.tryBuild(t, installerOpt()...)
			if err == nil {
				t.Fatalf("build succeeded, want an error:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestProvenance: a max-mode provenance attestation records smith.yaml, the
// installer and parent images by digest and the repository smith.yaml names
// (credentials never: TestCredentialsRedacted).
func TestProvenance(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, `package: smith-hello
repos:
- name: fixtures
  baseurl: $REPO
  gpgkey: $KEY
paths: [/usr/bin/smith-hello]
parent: $BASE
`, nil)
	img, _ := p.build(t, append(installerOpt(), "--opt", "attest:provenance=mode=max")...)
	stmt := img.attestation(t, "https://slsa.dev/provenance/v1")
	if stmt == nil {
		t.Fatal("no SLSA v1 provenance attestation")
	}
	b, _ := json.Marshal(stmt["predicate"])
	pred := string(b)
	var prov struct {
		BuildDefinition struct {
			ExternalParameters struct {
				ConfigSource struct{ Path string } `json:"configSource"`
			} `json:"externalParameters"`
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
	}
	must(t, json.Unmarshal(b, &prov))
	if p := prov.BuildDefinition.ExternalParameters.ConfigSource.Path; p != "smith.yaml" {
		t.Errorf("configSource.path = %q", p)
	}
	for _, want := range []string{"pkg:docker/" + testEnv.registry + "/test/dnf-installer@", "pkg:docker/" + testEnv.registry + "/test/debian@"} {
		ok := false
		for _, d := range prov.BuildDefinition.ResolvedDependencies {
			ok = ok || strings.HasPrefix(d.URI, want) && len(d.Digest["sha256"]) == 64
		}
		if !ok {
			t.Errorf("no digest-pinned dependency %s… in %+v", want, prov.BuildDefinition.ResolvedDependencies)
		}
	}
	// smith.yaml itself, with the repository URL, travels in the metadata.
	fx := getRPMFixtures(t)
	found := strings.Contains(pred, fx.url+"/repo/")
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if d, err := base64.StdEncoding.DecodeString(v); err == nil && strings.Contains(string(d), fx.url+"/repo/") {
				found = true
			}
		}
	}
	walk(stmt["predicate"])
	if !found {
		t.Errorf("provenance does not record the repository %s/repo/:\n%s", fx.url, pred)
	}
}

// TestRPMAuthRepo: a password-protected repository, its credentials from a
// BuildKit secret: the install works, and the password appears in no
// output, no layer, no label, no log, no provenance.
func TestRPMAuthRepo(t *testing.T) {
	requireE2E(t)
	fx := getRPMFixtures(t)
	const user, pass = "smith", "s3cret-Pa55:with-colon"
	files := http.FileServer(http.Dir(fx.dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="smith"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	yaml := strings.ReplaceAll(`package: smith-hello
repos:
- name: private
  baseurl: $PRIVATE/repo/
  gpgkey: $KEY
  secret: private-repo
paths: [/usr/bin/smith-hello]
cmd: [/usr/bin/smith-hello]
`, "$PRIVATE", srv.URL)
	p := rpmProject(t, yaml, nil)
	secret := filepath.Join(t.TempDir(), "creds")
	must(t, os.WriteFile(secret, []byte(user+":"+pass+"\n"), 0o600))

	// Without the secret, the repository refuses.
	if _, out, err := p.tryBuild(t, append(installerOpt(), "--secret", "id=private-repo,src=/dev/null", "--no-cache")...); err == nil {
		t.Fatalf("built without credentials:\n%s", out)
	}
	img, out := p.build(t, append(installerOpt(), "--secret", "id=private-repo,src="+secret, "--no-cache",
		"--opt", "attest:provenance=mode=max", "--opt", "attest:sbom=")...)
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Fatalf("run: %v %q %q", err, stdout, stderr)
	}
	tarball, err := os.ReadFile(img.path)
	must(t, err)
	for where, b := range map[string][]byte{"the build output": []byte(out), "the OCI archive": tarball} {
		if bytes.Contains(b, []byte(pass)) || bytes.Contains(b, []byte("s3cret")) {
			t.Errorf("the password is in %s", where)
		}
	}
	for name, blob := range img.blobs {
		if zr, err := gzip.NewReader(bytes.NewReader(blob)); err == nil {
			if b, err := io.ReadAll(zr); err == nil && bytes.Contains(b, []byte("s3cret")) {
				t.Errorf("the password is in layer %s", name)
			}
		}
	}
	if img.attestation(t, "https://slsa.dev/provenance/v1") == nil {
		t.Error("no provenance to check")
	}

	// Locked: BuildKit fetches each RPM itself, sending the secret as the
	// Authorization header, so the secret is one ("Basic <base64>"); the
	// install step reads the same secret.
	token := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	must(t, os.WriteFile(secret, []byte("Basic "+token), 0o600)) // a header: no newline
	lockb := p.lock(t, "--secret", "id=private-repo,src="+secret)
	img, out = p.build(t, append(installerOpt(), "--secret", "id=private-repo,src="+secret, "--no-cache")...)
	if !strings.Contains(out, "[smith] fetch smith-hello-0:1.0-1.el9.x86_64") {
		t.Errorf("not a locked build:\n%s", out)
	}
	if stdout, _, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Errorf("locked private build: %v %q", err, stdout)
	}
	tarball, err = os.ReadFile(img.path)
	must(t, err)
	for where, b := range map[string][]byte{"the build output": []byte(out), "the OCI archive": tarball, "smith.lock": lockb} {
		if bytes.Contains(b, []byte("s3cret")) || bytes.Contains(b, []byte(token)) {
			t.Errorf("the credentials are in %s", where)
		}
	}
}

// copyLocalRPMs puts smith-local and the runtime it needs into dir/rpms, as
// RPM files of the build context with no repository.
func copyLocalRPMs(t *testing.T, dir string) {
	t.Helper()
	fx := getRPMFixtures(t)
	must(t, os.MkdirAll(filepath.Join(dir, "rpms"), 0o755))
	mustRun(t, "sh", "-c", "cp "+fx.dir+"/local/smith-local-*.rpm "+fx.dir+"/repo/smith-libgreet-*.x86_64.rpm "+
		fx.dir+"/repo/smith-ldso-*.x86_64.rpm "+fx.dir+"/repo/smith-filesystem-*.x86_64.rpm "+filepath.Join(dir, "rpms")+"/")
}

// TestRPMClientCertRepo: a repository that wants a client certificate gets
// it from BuildKit secrets, mounted into the install step only: with
// another CA's certificate the server refuses the build; with its own it
// installs, and the key is in no output, layer or attestation.
func TestRPMClientCertRepo(t *testing.T) {
	requireE2E(t)
	fx := getRPMFixtures(t)
	pki := newTestPKI(t)
	// An installer that trusts the test CA, as one would trust a company's.
	installer := pushImage(t, "test/dnf-installer-tls", "FROM "+testEnv.registry+"/test/dnf-installer:bookworm\n"+trustCA,
		map[string][]byte{"smith-test-ca.crt": pki.caPEM})
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(fx.dir)))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()

	p := rpmProject(t, `package: smith-hello
repos:
- name: mtls
  baseurl: `+srv.URL+`/repo/
  gpgkey: ./RPM-GPG-KEY-smith-test
  sslclientcert: repo-cert
  sslclientkey: repo-key
paths: [/usr/bin/smith-hello]
cmd: [/usr/bin/smith-hello]
`, nil)
	mustRun(t, "cp", fx.dir+"/RPM-GPG-KEY-smith-test", p.dir+"/")
	secrets := t.TempDir()
	cert, key := filepath.Join(secrets, "cert.pem"), filepath.Join(secrets, "key.pem")
	must(t, os.WriteFile(cert, pki.clientCert, 0o600))
	must(t, os.WriteFile(key, pki.clientKey, 0o600))
	opts := []string{"--opt", "context:installer=docker-image://" + installer, "--no-cache"}

	// A certificate of another CA: the server refuses it.
	other := newTestPKI(t)
	otherCert, otherKey := filepath.Join(secrets, "other-cert.pem"), filepath.Join(secrets, "other-key.pem")
	must(t, os.WriteFile(otherCert, other.clientCert, 0o600))
	must(t, os.WriteFile(otherKey, other.clientKey, 0o600))
	if _, out, err := p.tryBuild(t, append(opts, "--secret", "id=repo-cert,src="+otherCert, "--secret", "id=repo-key,src="+otherKey)...); err == nil ||
		!strings.Contains(out, "Failed to download metadata for repo 'mtls'") {
		t.Fatalf("built with a certificate the repository does not accept: %v\n%s", err, tail(out, 20))
	}
	img, out := p.build(t, append(opts, "--secret", "id=repo-cert,src="+cert, "--secret", "id=repo-key,src="+key,
		"--opt", "attest:provenance=mode=max")...)
	if stdout, stderr, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Fatalf("run: %v %q %q", err, stdout, stderr)
	}
	// The key, in PEM or as its private scalar (DER, base64 of it): in no
	// output, archive or layer. (The PEM's first line is a fixed prefix.)
	block, _ := pem.Decode(pki.clientKey)
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	must(t, err)
	scalar, err := parsed.(*ecdsa.PrivateKey).Bytes()
	must(t, err)
	needles := [][]byte{scalar, []byte(base64.StdEncoding.EncodeToString(scalar)), []byte(strings.TrimSpace(string(pki.clientKey)))}
	tarball, err := os.ReadFile(img.path)
	must(t, err)
	leaks := func(b []byte) bool {
		return slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(b, n) })
	}
	for where, b := range map[string][]byte{"the build output": []byte(out), "the OCI archive": tarball} {
		if leaks(b) {
			t.Errorf("the client key is in %s", where)
		}
	}
	for name, blob := range img.blobs {
		if zr, err := gzip.NewReader(bytes.NewReader(blob)); err == nil {
			if b, err := io.ReadAll(zr); err == nil && leaks(b) {
				t.Errorf("the client key is in layer %s", name)
			}
		}
	}
}

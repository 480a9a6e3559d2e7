package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestLock: smith.lock pins every RPM; a locked build fetches each as its
// own checksummed source and installs with rpm alone, unchanged when the
// repository moves on, while an unlocked build moves with it.
func TestLock(t *testing.T) {
	requireE2E(t)
	fx := getRPMFixtures(t)
	// A repository of our own, so the test can publish to it.
	repo := t.TempDir()
	mustRun(t, "cp", "-a", filepath.Join(fx.dir, "repo"), filepath.Join(repo, "repo"))
	mustRun(t, "cp", fx.dir+"/RPM-GPG-KEY-smith-test", repo+"/")
	var mu sync.Mutex
	rpmGets := 0
	files := http.FileServer(http.Dir(repo))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".rpm") {
			mu.Lock()
			rpmGets++
			mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	gets := func() int { mu.Lock(); defer mu.Unlock(); return rpmGets }
	yaml := "package: smith-hello\nrepos: [{name: fixtures, baseurl: " + srv.URL + "/repo/, gpgkey: " + srv.URL +
		"/RPM-GPG-KEY-smith-test}]\n"
	p := newProject(t, yaml+"paths: [/usr/bin/smith-hello]\ncmd: [/usr/bin/smith-hello]\n", nil)

	// Lock: smith.lock comes back as the build's only file.
	b := p.lock(t)
	var l struct {
		Input, Installer string
		Arches           map[string][]struct {
			NEVRA, URL, SHA256, Repo string
			Size                     int64
		}
	}
	must(t, json.Unmarshal(b, &l))
	var nevras []string
	for _, pkg := range l.Arches["x86_64"] {
		nevras = append(nevras, pkg.NEVRA)
		if !strings.HasPrefix(pkg.URL, srv.URL+"/repo/") || len(pkg.SHA256) != 64 || pkg.Size == 0 || pkg.Repo != "fixtures" {
			t.Errorf("lock entry %+v", pkg)
		}
	}
	if strings.Join(nevras, " ") != "smith-filesystem-0:1.0-1.el9.x86_64 smith-hello-0:1.0-1.el9.x86_64 smith-ldso-0:1.0-1.el9.x86_64 smith-libgreet-0:1.0-1.el9.x86_64" ||
		!strings.HasPrefix(l.Input, "sha256:") || !strings.Contains(l.Installer, "@sha256:") {
		t.Fatalf("smith.lock:\n%s", b)
	}

	// A locked build: no solve, each RPM its own source.
	locked, out := p.build(t, installerOpt()...)
	if !strings.Contains(out, "installing 4 locked packages with rpm") || !strings.Contains(out, "[smith] fetch smith-hello-0:1.0-1.el9.x86_64") {
		t.Errorf("not a locked build:\n%s", out)
	}
	if stdout, _, err := locked.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Fatalf("locked image: %v %q", err, stdout)
	}
	// A locked build needs no installer: without the installer context,
	// smith.yaml's default (docker.io/library/oraclelinux:9, unreachable
	// here) is never asked for, and the install step is the same step.
	bare, out := p.build(t)
	if strings.Contains(out, "oraclelinux") || strings.Contains(out, "installer") {
		t.Errorf("a locked build asked for the installer:\n%s", out)
	}
	if stdout, _, err := bare.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Fatalf("locked image without the installer: %v %q", err, stdout)
	}
	// The manifest records where each locked package came from.
	for _, pkg := range packageManifest(t, locked)["packages"].([]any) {
		m := pkg.(map[string]any)
		if u, _ := m["url"].(string); !strings.HasPrefix(u, srv.URL+"/repo/") || len(m["sha256"].(string)) != 64 {
			t.Errorf("manifest package without its lock pin: %v", m)
		}
	}
	// The same files as an unlocked build of the same inputs.
	unlocked, _ := p.build(t, append(installerOpt(), "--opt", "smith-lock=ignore")...)
	if strings.Join(locked.paths(), " ") != strings.Join(unlocked.paths(), " ") {
		t.Errorf("locked and unlocked images differ:\n%q\n%q", locked.paths(), unlocked.paths())
	}
	for f, d := range unlocked.data {
		if string(locked.data[f]) != string(d) {
			t.Errorf("%s differs between the locked and the unlocked image", f)
		}
	}

	// The repository moves on: smith-hello 1.1 is published.
	mustRun(t, "cp", fx.dir+"/updates/smith-hello-1.1-1.el9.x86_64.rpm", repo+"/repo/")
	mustRun(t, "createrepo_c", "--quiet", "--no-database", repo+"/repo")
	img, _ := p.build(t, installerOpt()...)
	if stdout, _, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
		t.Errorf("the locked build moved: %v %q", err, stdout)
	}
	// (--no-cache: an unlocked build is cached on its inputs, which have not
	// changed; this one asks the repository again.)
	img, _ = p.build(t, append(installerOpt(), "--opt", "smith-lock=ignore", "--no-cache")...)
	if stdout, _, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello 1.1!\n" {
		t.Errorf("the unlocked build did not move: %v %q", err, stdout)
	}

	// A second image with the same packages fetches nothing new: its RPM
	// sources are known by checksum, and the install step is shared.
	q := newProject(t, yaml+"paths: [/usr/lib64/libgreet.so.1]\n", nil)
	must(t, os.WriteFile(filepath.Join(q.dir, "smith.lock"), b, 0o644))
	before := gets()
	second, out := q.build(t, installerOpt()...)
	if n := len(regexp.MustCompile(`(?m)^#\d+ \[smith\] fetch smith-`).FindAllString(out, -1)); n != 4 {
		t.Errorf("want 4 fetch steps, got %d:\n%s", n, out)
	}
	// The install step did not run again: it would have said so in the log.
	// (Its CACHED line can come after the export in BuildKit's progress, or
	// not at all, so it is no evidence.)
	if gets() != before || strings.Contains(out, "locked packages with rpm") {
		t.Errorf("the second image fetched %d RPMs again:\n%s", gets()-before, out)
	}
	if !second.has("/usr/lib64/libgreet.so.1.0.0") {
		t.Errorf("second image: %q", second.paths())
	}

	// A stale lock (smith.yaml asks for more) says how to refresh it.
	stale := newProject(t, strings.Replace(yaml, "package: smith-hello", "package: [smith-hello, smith-post]", 1)+"paths: [/usr/bin/smith-hello]\n", nil)
	must(t, os.WriteFile(filepath.Join(stale.dir, "smith.lock"), b, 0o644))
	if _, out, err := stale.tryBuild(t, installerOpt()...); err == nil || !strings.Contains(out, "smith.lock is stale") ||
		!strings.Contains(out, "--opt smith-lock=1") {
		t.Errorf("stale lock: %v\n%s", err, out)
	}
	// --check says so too, without building.
	if out, err := buildxCheck(stale.dir); err == nil || !strings.Contains(out, "smith.lock is stale") {
		t.Errorf("--check of a stale lock: %v\n%s", err, out)
	}
	if out, err := buildxCheck(p.dir); err != nil {
		t.Errorf("--check of a good lock: %v\n%s", err, out)
	}

	// An edited lock cannot pass a package off as a local file (whose
	// signature smith.yaml may not check).
	relabeled := newProject(t, yaml+"paths: [/usr/bin/smith-hello]\n", nil)
	must(t, os.WriteFile(filepath.Join(relabeled.dir, "smith.lock"), []byte(strings.Replace(string(b), `"repo":"fixtures"`, `"repo":"@commandline"`, 1)), 0o644))
	if _, out, err := relabeled.tryBuild(t, installerOpt()...); err == nil || !strings.Contains(out, "a local file, but its url "+srv.URL) {
		t.Errorf("a relabeled package: %v\n%s", err, tail(out, 20))
	}

	// A checksum that does not match fails naming the package.
	var sum string
	for _, pkg := range l.Arches["x86_64"] {
		if strings.HasPrefix(pkg.NEVRA, "smith-hello-") {
			sum = pkg.SHA256
		}
	}
	bad := newProject(t, yaml+"paths: [/usr/bin/smith-hello]\n", nil)
	must(t, os.WriteFile(filepath.Join(bad.dir, "smith.lock"), []byte(strings.Replace(string(b), sum, strings.Repeat("0", 64), 1)), 0o644))
	if _, out, err := bad.tryBuild(t, installerOpt()...); err == nil || !strings.Contains(out, "smith-hello-0:1.0-1.el9.x86_64") ||
		!strings.Contains(out, "digest mismatch") {
		t.Errorf("checksum mismatch: %v\n%s", err, tail(out, 30))
	}
}

// TestLockLocalFile: smith.lock pins the bytes of the build context's RPM
// files too, so a rebuilt file fails a locked build by name instead of
// slipping in under the lock.
func TestLockLocalFile(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, "package: ./rpms/*.rpm\ninstaller_repos: false\nlocalpkg_gpgcheck: false\n"+
		"paths: [/usr/bin/smith-local]\ncmd: [/usr/bin/smith-local]\n", nil)
	copyLocalRPMs(t, p.dir)
	fx := getRPMFixtures(t)
	b := p.lock(t)
	if !regexp.MustCompile(`"path":"rpms/smith-local-1\.0-1\.el9\.x86_64\.rpm","size":\d+,"sha256":"[0-9a-f]{64}"`).Match(b) {
		t.Fatalf("the local file is not pinned:\n%s", b)
	}
	img, out := p.build(t, installerOpt()...)
	if !strings.Contains(out, "installing 4 locked packages with rpm") {
		t.Errorf("not a locked build:\n%s", out)
	}
	if stdout, _, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-local!\n" {
		t.Fatalf("locked image: %v %q", err, stdout)
	}
	// A new file that package's pattern matches makes the lock stale.
	extra := filepath.Join(p.dir, "rpms/smith-post-1.0-1.el9.x86_64.rpm")
	mustRun(t, "cp", fx.dir+"/repo/smith-post-1.0-1.el9.x86_64.rpm", extra)
	if _, out, err := p.tryBuild(t, installerOpt()...); err == nil ||
		!strings.Contains(out, "smith.lock is stale: rpms/smith-post-1.0-1.el9.x86_64.rpm matches package ./rpms/*.rpm but the lock does not pin it") {
		t.Errorf("a new local RPM under the lock: %v\n%s", err, tail(out, 30))
	}
	must(t, os.Remove(extra))
	// The file is rebuilt (here: other bytes under the same name).
	local, err := filepath.Glob(filepath.Join(p.dir, "rpms/smith-local-*.rpm"))
	must(t, err)
	mustRun(t, "sh", "-c", "cp "+fx.dir+"/repo/smith-hello-1.0-1.el9.x86_64.rpm "+local[0])
	if _, out, err := p.tryBuild(t, installerOpt()...); err == nil ||
		!strings.Contains(out, "smith.lock: smith-local-0:1.0-1.el9.x86_64: rpms/smith-local-1.0-1.el9.x86_64.rpm is not the file the lock pinned") {
		t.Errorf("a rebuilt local RPM under the lock: %v\n%s", err, tail(out, 30))
	}
}

// TestLockInstallerKeys: a locked build that needs the keys of the
// installer's own repositories (here: local files, checked against every
// key dnf has) reads them from the installer image, and fails naming the
// package when the installer has not got them.
func TestLockInstallerKeys(t *testing.T) {
	requireE2E(t)
	fx := getRPMFixtures(t)
	key, err := os.ReadFile(fx.dir + "/RPM-GPG-KEY-smith-test")
	must(t, err)
	keyed := pushImage(t, "test/dnf-installer-keys", "FROM "+testEnv.registry+
		"/test/dnf-installer:bookworm\nCOPY RPM-GPG-KEY-smith-test /etc/pki/rpm-gpg/\n", map[string][]byte{"RPM-GPG-KEY-smith-test": key})
	withKeys := []string{"--opt", "context:installer=docker-image://" + keyed}
	p := rpmProject(t, "package: ./rpms/*.rpm\npaths: [/usr/bin/smith-local]\ncmd: [/usr/bin/smith-local]\n", nil)
	copyLocalRPMs(t, p.dir)
	p.lock(t, withKeys...)
	img, out := p.build(t, withKeys...)
	if !strings.Contains(out, "installing 4 locked packages with rpm") {
		t.Errorf("not a locked build:\n%s", out)
	}
	if stdout, _, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-local!\n" {
		t.Fatalf("locked image: %v %q", err, stdout)
	}
	if _, out, err := p.tryBuild(t, installerOpt()...); err == nil ||
		!regexp.MustCompile(`smith\.lock: smith-[a-z]+-0:1\.0-1\.el9\.x86_64: the signature does not verify with the keys of the repositories`).MatchString(out) {
		t.Errorf("an installer without the key: %v\n%s", err, tail(out, 30))
	}
}

package frontend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/lock"
)

const rpmYAML = "package: httpd\nrepos: [{name: r, baseurl: 'https://repo.test/el9/', gpgcheck: false}]\npaths: [/usr/sbin/httpd]\n"

var arm64 = ocispecs.Platform{OS: "linux", Architecture: "arm64"}

// lockFor renders a smith.lock made from yaml, with one package per arch.
func lockFor(t *testing.T, yaml string, arches ...string) []byte {
	t.Helper()
	f, err := config.Parse("smith.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	l := &lock.Lock{Version: lock.Version, Input: lock.Input(f), Arches: map[string][]lock.Package{}}
	for _, a := range arches {
		l.Arches[a] = []lock.Package{{NEVRA: "httpd-0:2.4-1." + a, Repo: "r", URL: "https://repo.test/el9/httpd." + a + ".rpm",
			SHA256: strings.Repeat("a", 64)}}
	}
	return l.Render()
}

// TestReadLock: an RPM build uses the build context's smith.lock unless
// told to ignore it; a stale lock, or one without the target's arch, fails.
func TestReadLock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lock   []byte
		args   map[string]string
		target ocispecs.Platform
		read   bool   // smith.lock was asked for
		locked string // an op line prefix of the locked install
		err    string
	}{
		{name: "no lock", read: true},
		{name: "lock", lock: lockFor(t, rpmYAML, "x86_64"), read: true, locked: "source https://repo.test/el9/httpd.x86_64.rpm"},
		{name: "lock for another arch", lock: lockFor(t, rpmYAML, "x86_64", "aarch64"), target: arm64, read: true,
			locked: "source https://repo.test/el9/httpd.aarch64.rpm"},
		{name: "ignored", lock: lockFor(t, rpmYAML, "x86_64"), args: map[string]string{"SMITH_LOCK": "ignore"}},
		{name: "stale", lock: lockFor(t, rpmYAML+"releasever: '8'\n", "x86_64"), read: true, err: "smith.lock is stale: it was made for other packages or repositories"},
		{name: "arch missing", lock: lockFor(t, rpmYAML, "x86_64"), target: arm64, read: true,
			err: "smith.lock has no packages for aarch64: refresh it for every platform you build (--opt smith-lock=1 with the same --opt platform=…)"},
		{name: "not a lock", lock: []byte("{"), read: true, err: "smith.lock: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			if tc.lock != nil {
				r.files[lock.FileName] = tc.lock
			}
			o := testOptions()
			o.BuildArgs = tc.args
			if tc.target.OS == "" {
				tc.target = amd64
			}
			b, err := newBuild(context.Background(), r, source(rpmYAML, nil), o)
			if err != nil {
				t.Fatal(err)
			}
			err = b.prepare(context.Background())
			if read := slices.Contains(r.read, lock.FileName); read != tc.read {
				t.Errorf("smith.lock read: %v, want %v", read, tc.read)
			}
			var gen *llbgen.Result
			if err == nil {
				gen, _, err = b.generate(context.Background(), tc.target)
			}
			if checkErr(t, err, tc.err, 0) {
				return
			}
			var want []string
			if tc.locked != "" {
				want = append(want, tc.locked)
			}
			if ops := checkOps(t, gen.State, tc.target, want...); tc.locked == "" && hasOp(ops, "source https://") {
				t.Errorf("a locked package in an unlocked build:\n%s", strings.Join(ops, "\n"))
			}
		})
	}
}

// TestStaleLockType: a stale lock is a *lock.StaleError, which the build
// passes on as it is.
func TestStaleLockType(t *testing.T) {
	r := newFake()
	r.files[lock.FileName] = lockFor(t, rpmYAML+"releasever: '8'\n", "x86_64")
	_, _, err := prepared(t, r, rpmYAML, testOptions()).generate(context.Background(), amd64)
	var stale *lock.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("err = %v, want a *lock.StaleError", err)
	}
}

// TestWriteLock: smith-lock=1 resolves the transaction once per target
// platform and returns smith.lock as the build's only file, naming the
// installer by digest.
func TestWriteLock(t *testing.T) {
	pkgs := []lock.Package{{NEVRA: "httpd-0:2.4-1.x86_64", Repo: "r", URL: "https://repo.test/el9/httpd.rpm", SHA256: strings.Repeat("b", 64)}}
	for _, tc := range []struct {
		name      string
		opts      map[string]string
		args      map[string]string
		targets   []ocispecs.Platform
		contexts  map[string]fakeImage
		arches    []string
		installer string
	}{
		{name: "build platform", opts: map[string]string{"smith-lock": "1"}, arches: []string{"x86_64"},
			installer: "docker.io/library/oraclelinux@" + testDigest("oraclelinux").String()},
		{name: "two platforms, by build-arg", args: map[string]string{"SMITH_LOCK": "true"}, targets: []ocispecs.Platform{amd64, arm64},
			arches: []string{"aarch64", "x86_64"}, installer: "docker.io/library/oraclelinux@" + testDigest("oraclelinux").String()},
		{name: "installer named context", opts: map[string]string{"smith-lock": "write", "context:installer": "docker-image://registry.test/el:9"},
			contexts: map[string]fakeImage{llbgen.InstallerContext: {}}, arches: []string{"x86_64"},
			installer: "registry.test/el:9@" + testDigest("el").String()},
		{name: "installer local context", opts: map[string]string{"smith-lock": "1", "context:installer": "local:dir"},
			contexts: map[string]fakeImage{llbgen.InstallerContext: {}}, arches: []string{"x86_64"},
			installer: "build context installer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			r.contexts = tc.contexts
			r.images["registry.test/el:9"] = fakeImage{digest: testDigest("el")}
			r.outputs[llbgen.ResolveFile] = mustJSON(pkgs)
			o := testOptions()
			o.Opts, o.BuildArgs, o.TargetPlatforms = tc.opts, tc.args, tc.targets
			b := prepared(t, r, rpmYAML, o)
			if b.mode != "write" || slices.Contains(r.read, lock.FileName) {
				t.Fatalf("mode %q, read %v", b.mode, r.read)
			}
			res, err := b.writeLock(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res == nil {
				t.Fatal("no result")
			}
			last := r.solves[len(r.solves)-1]
			if !last.Evaluate {
				t.Error("smith.lock is not evaluated")
			}
			l, err := lock.Parse(mkfileData(t, last.Definition, "/"+lock.FileName))
			if err != nil {
				t.Fatal(err)
			}
			var arches []string
			for a := range l.Arches {
				arches = append(arches, a)
			}
			slices.Sort(arches)
			if !slices.Equal(arches, tc.arches) || l.Installer != tc.installer {
				t.Errorf("arches %v, installer %q; want %v, %q", arches, l.Installer, tc.arches, tc.installer)
			}
			// Each resolve step is a solve of its own, uncached.
			if n := len(r.solves) - 1; n != len(tc.arches) {
				t.Errorf("%d resolve solves, want %d", n, len(tc.arches))
			}
		})
	}
}

func TestWriteLockErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		outputs    map[string][]byte
		err        string
		line       int32
	}{
		{name: "image build", yaml: "package: debian/x:1\npaths: [/a]\n",
			err: "smith.yaml:1:1: package: smith.lock pins RPM installs; this package is an image (pin it by digest instead)", line: 1},
		{name: "no transaction", yaml: rpmYAML, err: "reading the resolved transaction: "},
		{name: "bad transaction", yaml: rpmYAML, outputs: map[string][]byte{llbgen.ResolveFile: []byte("[")},
			err: "decoding the resolved transaction: "},
		{name: "unpinnable", yaml: rpmYAML, outputs: map[string][]byte{llbgen.ResolveFile: mustJSON([]lock.Package{{NEVRA: "a-0:1-1.x86_64", Repo: "r", URL: "file:///repo/a.rpm"}})},
			err: "the resolved transaction cannot be locked: "},
		{name: "client certificate", yaml: "package: httpd\nrepos: [{name: r, baseurl: 'https://repo.test/', gpgcheck: false, sslclientcert: cert, sslclientkey: key}]\npaths: [/a]\n",
			err: "smith.yaml:2:9: repos[0]: smith.lock cannot pin packages of a repository that needs a client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			if tc.outputs != nil {
				r.outputs = tc.outputs
			}
			o := testOptions()
			o.Opts = map[string]string{"smith-lock": "1"}
			// What smith.yaml alone rules out fails in newBuild, before
			// anything is fetched (so --check reports it).
			b, err := newBuild(context.Background(), r, source(tc.yaml, nil), o)
			if err == nil {
				err = b.prepare(context.Background())
			}
			if err == nil {
				_, err = b.writeLock(context.Background())
			}
			checkErr(t, err, tc.err, tc.line)
		})
	}
}

// TestCheckLock: --check also checks the smith.lock the build would use:
// stale, or without a target's arch, or with a package from elsewhere.
func TestCheckLock(t *testing.T) {
	moved := strings.Replace(string(lockFor(t, rpmYAML, "x86_64")), "https://repo.test/el9/", "https://elsewhere.test/", 1)
	for _, tc := range []struct {
		name    string
		lock    []byte
		targets []ocispecs.Platform
		args    map[string]string
		err     string
	}{
		{name: "no lock"},
		{name: "lock", lock: lockFor(t, rpmYAML, "x86_64")},
		{name: "stale", lock: lockFor(t, rpmYAML+"releasever: '8'\n", "x86_64"), err: "smith.lock is stale"},
		{name: "stale, ignored", lock: lockFor(t, rpmYAML+"releasever: '8'\n", "x86_64"), args: map[string]string{"SMITH_LOCK": "ignore"}},
		{name: "a target's arch missing", lock: lockFor(t, rpmYAML, "x86_64"), targets: []ocispecs.Platform{amd64, arm64},
			err: "smith.lock has no packages for aarch64"},
		{name: "a package from elsewhere", lock: []byte(moved), err: "is not under repository r's baseurl https://repo.test/el9/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			if tc.lock != nil {
				r.files[lock.FileName] = tc.lock
			}
			o := testOptions()
			o.BuildArgs, o.TargetPlatforms = tc.args, tc.targets
			b, err := newBuild(context.Background(), r, source(rpmYAML, nil), o)
			if err != nil {
				t.Fatal(err)
			}
			err = b.checkLock(context.Background())
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("checkLock: %v, want %q", err, tc.err)
			}
		})
	}
}

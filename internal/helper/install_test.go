package helper

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithbuild/smith/internal/protocol"
)

// fakeRPM stands in for rpm, rpmkeys and rpmdb: it records each command
// and answers queries from a tiny rpmdb.
type fakeRPM struct {
	cmds []string
	// badSig is a file whose signature does not verify, unsigned one
	// that has none, broken one rpmkeys cannot even be started for.
	badSig, unsigned, broken string
	// keys holds the content of every key imported.
	keys []string
}

func (f *fakeRPM) run(stdout io.Writer, name string, args ...string) error {
	f.cmds = append(f.cmds, name+" "+strings.Join(args, " "))
	switch {
	case name == "rpmkeys" && args[2] == "--import":
		b, err := os.ReadFile(args[3])
		if err != nil {
			return err
		}
		f.keys = append(f.keys, string(b))
	case name == "rpmkeys" && args[2] == "--checksig":
		switch args[3] {
		case f.badSig:
			fmt.Fprintf(stdout, "%s: digests SIGNATURES NOT OK\n", args[3])
			return &exec.ExitError{}
		case f.unsigned:
			fmt.Fprintf(stdout, "%s: digests OK\n", args[3]) // and exit 0
			return nil
		case f.broken:
			return errors.New("fork/exec /usr/bin/rpmkeys: no such file or directory")
		}
		fmt.Fprintf(stdout, "%s: digests signatures OK\n", args[3])
	case name == "rpm" && args[2] == "-qa":
		// Unsorted, with a key rpm keeps as a package.
		switch args[4] {
		case qfPackages:
			io.WriteString(stdout, "zlib-0:1.2-1.x86_64\ngpg-pubkey-0:7214bad9-6b130aed.(none)\nbash-0:5.1-1.x86_64\n")
		case qfFiles:
			io.WriteString(stdout, "zlib-0:1.2-1.x86_64\t/usr/lib64/libz.so.1\nbash-0:5.1-1.x86_64\t/usr/bin/bash\n")
		case qfQA:
			io.WriteString(stdout, "zlib\t1.2-1\t0\t0\tv\t(none)\t1\tx86_64\t0\tzlib.src.rpm\ngpg-pubkey\t7214bad9-6b130aed\t0\t0\t(none)\t(none)\t0\t(none)\t0\t(none)\nbash\t5.1-1\t0\t0\tv\t(none)\t1\tx86_64\t0\tbash.src.rpm\n")
		case qfScriptlets:
			io.WriteString(stdout, "zlib\nbash %post\n")
		default:
			return fmt.Errorf("unknown query %q", args[4])
		}
	}
	return nil
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func installFixture(t *testing.T) (protocol.Install, string) {
	t.Helper()
	dir := t.TempDir()
	local := filepath.Join(dir, "local.rpm")
	must(t, os.WriteFile(local, []byte("a local rpm"), 0o644))
	// The installer's keys: a file and an absolute link that resolves
	// inside the installer's root, not this step's.
	inst := filepath.Join(dir, "installer")
	must(t, os.MkdirAll(filepath.Join(inst, "etc/pki/rpm-gpg"), 0o755))
	must(t, os.WriteFile(filepath.Join(inst, "etc/pki/rpm-gpg/RPM-GPG-KEY-a"), []byte("installer key a"), 0o644))
	must(t, os.Symlink("/etc/pki/rpm-gpg/RPM-GPG-KEY-a", filepath.Join(inst, "etc/pki/rpm-gpg/RPM-GPG-KEY-b")))
	must(t, os.WriteFile(filepath.Join(dir, "key"), []byte("repo key"), 0o644))
	return protocol.Install{
		Root:     "/r",
		Keys:     []string{filepath.Join(dir, "key")},
		KeysFrom: inst,
		Packages: []protocol.Package{
			{NEVRA: "bash-0:5.1-1.x86_64", File: "/l/0/p.rpm", CheckSignature: true},
			{NEVRA: "zlib-0:1.2-1.x86_64", File: "/l/1/p.rpm"},
			{NEVRA: "local-0:1-1.x86_64", File: local, SHA256: sum([]byte("a local rpm")), Path: "local.rpm", CheckSignature: true},
		},
		Context: dir,
		Globs:   []protocol.Glob{{Pattern: "*.rpm", Name: "./*.rpm"}},
		Record: protocol.Record{Files: filepath.Join(dir, "meta/files.tsv"), Packages: filepath.Join(dir, "meta/packages.txt"),
			QA: filepath.Join(dir, "meta/rpmqa.tsv")},
	}, local
}

func TestInstallLocked(t *testing.T) {
	in, local := installFixture(t)
	var f fakeRPM
	var stderr bytes.Buffer
	must(t, install(in, f.run, &stderr))
	want := []string{
		"rpmdb --root /r --initdb",
		"rpmkeys --root /r --import " + in.Keys[0],
		"rpmkeys --root /r --import KEY-a",
		"rpmkeys --root /r --import KEY-b",
		"rpmkeys --root /r --checksig /l/0/p.rpm",
		"rpmkeys --root /r --checksig " + local,
		"rpm --root /r -U --excludedocs /l/0/p.rpm /l/1/p.rpm " + local,
	}
	if len(f.cmds) < len(want) {
		t.Fatalf("commands:\n%s", strings.Join(f.cmds, "\n"))
	}
	for i, w := range want {
		got := f.cmds[i]
		if strings.HasPrefix(w, "rpmkeys --root /r --import KEY-") {
			// A copy in a temporary folder, named after the key.
			if !strings.HasPrefix(got, "rpmkeys --root /r --import ") || !strings.HasSuffix(got, "-RPM-GPG-"+strings.TrimPrefix(w, "rpmkeys --root /r --import ")) {
				t.Errorf("command %d = %q, want an import of the installer's %s", i, got, w)
			}
			continue
		}
		if got != w {
			t.Errorf("command %d = %q, want %q", i, got, w)
		}
	}
	if strings.Join(f.keys, "|") != "repo key|installer key a|installer key a" {
		t.Errorf("imported keys %q", f.keys)
	}
	if !strings.Contains(stderr.String(), "smith: installing 3 locked packages with rpm (no solve, no repository metadata)") {
		t.Errorf("stderr %q", stderr.String())
	}
	for file, content := range map[string]string{
		in.Record.Packages: "bash-0:5.1-1.x86_64\nzlib-0:1.2-1.x86_64\n",
		in.Record.Files:    "bash-0:5.1-1.x86_64\t/usr/bin/bash\nzlib-0:1.2-1.x86_64\t/usr/lib64/libz.so.1\n",
		in.Record.QA:       "bash\t5.1-1\t0\t0\tv\t(none)\t1\tx86_64\t0\tbash.src.rpm\nzlib\t1.2-1\t0\t0\tv\t(none)\t1\tx86_64\t0\tzlib.src.rpm\n",
	} {
		b, err := os.ReadFile(file)
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", filepath.Base(file), b, err, content)
		}
	}
}

func TestInstallLockedRefuses(t *testing.T) {
	in, local := installFixture(t)
	// A rebuilt local file: nothing runs.
	must(t, os.WriteFile(local, []byte("rebuilt"), 0o644))
	var f fakeRPM
	err := install(in, f.run, io.Discard)
	if err == nil || err.Error() != "smith.lock: local-0:1-1.x86_64: local.rpm is not the file the lock pinned (its sha256 differs); refresh the lock with --opt smith-lock=1" {
		t.Errorf("rebuilt file: %v", err)
	}
	if len(f.cmds) != 0 {
		t.Errorf("ran %q", f.cmds)
	}

	// A new file that a pattern matches: the lock is stale.
	in, _ = installFixture(t)
	must(t, os.WriteFile(filepath.Join(in.Context, "new.rpm"), []byte("new"), 0o644))
	f = fakeRPM{}
	err = install(in, f.run, io.Discard)
	if err == nil || err.Error() != "smith.lock is stale: new.rpm matches package ./*.rpm but the lock does not pin it; refresh it with --opt smith-lock=1" || len(f.cmds) != 0 {
		t.Errorf("a new local file: %v, ran %q", err, f.cmds)
	}
	// A pinned file that is gone.
	in, local = installFixture(t)
	must(t, os.Remove(local))
	err = install(in, f.run, io.Discard)
	if err == nil || err.Error() != "smith.lock: local-0:1-1.x86_64: local.rpm is not in the build context; refresh the lock with --opt smith-lock=1" {
		t.Errorf("a missing local file: %v", err)
	}

	in, _ = installFixture(t)
	f = fakeRPM{badSig: "/l/0/p.rpm"}
	err = install(in, f.run, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "smith.lock: bash-0:5.1-1.x86_64: the signature does not verify with the keys of the repositories:\n/l/0/p.rpm: digests SIGNATURES NOT OK") {
		t.Errorf("bad signature: %v", err)
	}
	for _, c := range f.cmds {
		if strings.Contains(c, " -U ") {
			t.Errorf("installed after a bad signature: %q", f.cmds)
		}
	}
	// An unsigned package where a signature is required: rpm says its
	// digests are OK and exits 0.
	in, _ = installFixture(t)
	f = fakeRPM{unsigned: "/l/0/p.rpm"}
	err = install(in, f.run, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "smith.lock: bash-0:5.1-1.x86_64: the signature does not verify with the keys of the repositories:\n/l/0/p.rpm: digests OK") {
		t.Errorf("unsigned package: %v", err)
	}
	// rpmkeys that does not run is not a bad signature.
	f = fakeRPM{broken: "/l/0/p.rpm"}
	err = install(in, f.run, io.Discard)
	if err == nil || err.Error() != "smith.lock: bash-0:5.1-1.x86_64: checking its signature: fork/exec /usr/bin/rpmkeys: no such file or directory" {
		t.Errorf("rpmkeys not running: %v", err)
	}
}

// TestInstallHiddenFiles: a hidden file that a pattern's * matches is not
// a new local RPM (the shell glob that chose the pinned ones skips it).
func TestInstallHiddenFiles(t *testing.T) {
	in, _ := installFixture(t)
	must(t, os.WriteFile(filepath.Join(in.Context, "._local.rpm"), []byte("AppleDouble"), 0o644))
	var f fakeRPM
	must(t, install(in, f.run, io.Discard))
	for _, tc := range []struct {
		pattern, match string
		hidden         bool
	}{
		{"*.rpm", "._a.rpm", true}, {".*.rpm", "._a.rpm", false}, {"rpms/*.rpm", "rpms/a.rpm", false},
		{"*/a.rpm", ".git/a.rpm", true}, {"rpms/*", "rpms/.a", true},
	} {
		if got := hiddenMatch(tc.pattern, tc.match); got != tc.hidden {
			t.Errorf("hiddenMatch(%q, %q) = %v", tc.pattern, tc.match, got)
		}
	}
}

// TestInstallerKeysThroughLinks: the installer's key folder may be a link,
// absolute too; it resolves inside the installer's root.
func TestInstallerKeysThroughLinks(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "usr/share/keys"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/share/keys/RPM-GPG-KEY-x"), []byte("key x"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "usr/share/keys/README"), []byte("not a key"), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "etc/pki"), 0o755))
	must(t, os.Symlink("/usr/share/keys", filepath.Join(root, "etc/pki/rpm-gpg")))
	keys, cleanup, err := copyInstallerKeys(root)
	defer cleanup()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %q, %v", keys, err)
	}
	if b, err := os.ReadFile(keys[0]); err != nil || string(b) != "key x" {
		t.Errorf("key %q, %v", b, err)
	}
	// No folder: no keys, no error.
	keys, cleanup, err = copyInstallerKeys(t.TempDir())
	defer cleanup()
	if err != nil || len(keys) != 0 {
		t.Errorf("an installer without keys: %q, %v", keys, err)
	}
}

// TestInstallCross: a cross install runs no scriptlets and names the
// packages whose scriptlets did not run; a record-only request (dnf
// installed) runs no transaction.
func TestInstallCross(t *testing.T) {
	in, _ := installFixture(t)
	in.KeysFrom = filepath.Join(t.TempDir(), "no-installer-keys")
	must(t, os.MkdirAll(in.KeysFrom, 0o755))
	in.Cross = &protocol.Cross{Target: "aarch64", Build: "x86_64"}
	var f fakeRPM
	var stderr bytes.Buffer
	must(t, install(in, f.run, &stderr))
	if !strings.Contains(strings.Join(f.cmds, "\n"), " -U --excludedocs --ignorearch --noscripts --notriggers /l/0/p.rpm") {
		t.Errorf("commands:\n%s", strings.Join(f.cmds, "\n"))
	}
	if want := "smith: installed for aarch64 on x86_64 without emulation: these scriptlets did not run (emulate: true runs them):\nbash %post\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}

	in.Packages = nil
	f = fakeRPM{}
	must(t, install(in, f.run, io.Discard))
	for _, c := range f.cmds {
		if !strings.HasPrefix(c, "rpm --root /r -qa --qf ") {
			t.Errorf("a record-only request ran %q", c)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

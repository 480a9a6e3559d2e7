package helper

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/fsroot"
	"github.com/smithbuild/smith/internal/protocol"
)

// The record's rpm query formats. The files record names every file of a
// package after its NEVRA; the container-manifest-2 fields are Azure
// Linux's, which scanners read.
const (
	qfPackages = `%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\n`
	qfFiles    = `[%{=NAME}-%{=EPOCHNUM}:%{=VERSION}-%{=RELEASE}.%{=ARCH}\t%{FILENAMES}\n]`
	qfQA       = `%{NAME}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{BUILDTIME}\t%{VENDOR}\t%{EPOCH}\t%{SIZE}\t%{ARCH}\t%{EPOCHNUM}\t%{SOURCERPM}\n`
	// qfScriptlets lists a package's scriptlets and triggers after its
	// name, each after a space.
	qfScriptlets = `%{NAME}%|PRETRANS?{ %%pretrans}|%|PREIN?{ %%pre}|%|POSTIN?{ %%post}|%|POSTTRANS?{ %%posttrans}|` +
		`%|TRIGGERNAME?{ triggers}|%|FILETRIGGERNAME?{ file triggers}|%|TRANSFILETRIGGERNAME?{ transaction file triggers}|\n`
)

// installerKeys is where an installer image keeps its repositories' keys.
const installerKeys = "etc/pki/rpm-gpg"

// runner runs a command, its output to stdout and its errors to the step's
// stderr.
type runner func(stdout io.Writer, name string, args ...string) error

// Install runs the RPM install step: a locked transaction when in has
// packages, then the record of the rpmdb. Commands come from PATH: the
// frontend image's rpm, or the installer's.
func Install(in protocol.Install, stderr io.Writer) error {
	if _, err := exec.LookPath("rpm"); err != nil {
		return errors.New("no rpm in this step: smith installs RPMs with the rpm of its frontend image (or of the installer); " +
			"a smith-helper build context holding only the smith-frontend binary cannot install them")
	}
	run := func(stdout io.Writer, name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return nil
	}
	return install(in, run, stderr)
}

func install(in protocol.Install, run runner, stderr io.Writer) error {
	if len(in.Packages) > 0 {
		if err := transaction(in, run, stderr); err != nil {
			return err
		}
	}
	if in.Cross != nil {
		if err := skippedScriptlets(in, run, stderr); err != nil {
			return err
		}
	}
	return record(in, run)
}

// transaction installs a lock's packages: the build context's files
// checked against their pins, the keys imported, each signature checked
// where smith.yaml asks, then one rpm transaction.
func transaction(in protocol.Install, run runner, stderr io.Writer) error {
	if err := unpinnedFiles(in); err != nil {
		return err
	}
	for _, p := range in.Packages {
		if p.SHA256 == "" {
			continue
		}
		sum, err := fileSHA256(p.File)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("smith.lock: %s: %s is not in the build context; refresh the lock with --opt smith-lock=1", p.NEVRA, p.Path)
		}
		if err != nil {
			return fmt.Errorf("smith.lock: %s: %w", p.NEVRA, err)
		}
		if sum != p.SHA256 {
			return fmt.Errorf("smith.lock: %s: %s is not the file the lock pinned (its sha256 differs); refresh the lock with --opt smith-lock=1",
				p.NEVRA, p.Path)
		}
	}
	if err := run(stderr, "rpmdb", "--root", in.Root, "--initdb"); err != nil {
		return err
	}
	keys := slices.Clone(in.Keys)
	if in.KeysFrom != "" {
		more, cleanup, err := copyInstallerKeys(in.KeysFrom)
		if err != nil {
			return err
		}
		defer cleanup()
		keys = append(keys, more...)
	}
	for _, k := range keys {
		if err := run(stderr, "rpmkeys", "--root", in.Root, "--import", k); err != nil {
			return fmt.Errorf("importing the key %s: %w", k, err)
		}
	}
	files := make([]string, len(in.Packages))
	for i, p := range in.Packages {
		files[i] = p.File
		if !p.CheckSignature {
			continue
		}
		var out bytes.Buffer
		err := run(&out, "rpmkeys", "--root", in.Root, "--checksig", p.File)
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return fmt.Errorf("smith.lock: %s: checking its signature: %w", p.NEVRA, err) // rpmkeys did not run
		}
		// Exactly rpm's verdict for a signed package whose signature
		// verifies: an unsigned one says "digests OK".
		if err != nil || !strings.HasSuffix(strings.TrimRight(out.String(), "\n"), ": digests signatures OK") {
			return fmt.Errorf("smith.lock: %s: the signature does not verify with the keys of the repositories:\n%s", p.NEVRA, out.String())
		}
	}
	fmt.Fprintf(stderr, "smith: installing %d locked packages with rpm (no solve, no repository metadata)\n", len(files))
	args := []string{"--root", in.Root, "-U", "--excludedocs"}
	if in.Cross != nil {
		args = append(args, "--ignorearch", "--noscripts", "--notriggers")
	}
	return run(stderr, "rpm", append(args, files...)...)
}

// unpinnedFiles fails when a local RPM pattern of smith.yaml matches a
// file of the build context that the lock does not pin: a new RPM there
// would change the transaction, so the lock is stale.
func unpinnedFiles(in protocol.Install) error {
	pinned := map[string]bool{}
	for _, p := range in.Packages {
		if p.Path != "" {
			pinned[p.Path] = true
		}
	}
	for _, g := range in.Globs {
		matches, err := filepath.Glob(filepath.Join(in.Context, g.Pattern))
		if err != nil {
			return fmt.Errorf("package %s: %w", g.Name, err)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(in.Context, m)
			if err == nil && hiddenMatch(g.Pattern, rel) {
				continue // the install step's shell glob skips it too
			}
			if err != nil || !pinned[rel] {
				return fmt.Errorf("smith.lock is stale: %s matches package %s but the lock does not pin it; refresh it with --opt smith-lock=1",
					rel, g.Name)
			}
		}
	}
	return nil
}

// hiddenMatch tells whether match has a hidden name (a leading dot) where
// pattern does not spell the dot: a shell glob, which chose the files the
// lock pinned, does not match it (filepath.Glob does).
func hiddenMatch(pattern, match string) bool {
	pp, mp := strings.Split(pattern, "/"), strings.Split(match, "/")
	for i, m := range mp {
		if strings.HasPrefix(m, ".") && (i >= len(pp) || !strings.HasPrefix(pp[i], ".")) {
			return true
		}
	}
	return false
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyInstallerKeys copies the installer's repository keys out of its root
// (links resolved inside it, never in this step's own root) into a
// temporary folder, for rpmkeys. An installer without keys has none.
func copyInstallerKeys(root string) (keys []string, cleanup func(), err error) {
	cleanup = func() {}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, cleanup, fmt.Errorf("the installer's keys: %w", err)
	}
	defer r.Close()
	// The folder itself may be a link (/etc/pki -> …), absolute ones too.
	phys := closure.PhysicalPaths(r.FS())
	keyDir, fi, err := fsroot.Follow(r, phys, "/"+installerKeys)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		return nil, cleanup, nil
	}
	if err != nil {
		return nil, cleanup, fmt.Errorf("the installer's keys: %w", err)
	}
	entries, err := r.FS().(fs.ReadDirFS).ReadDir(strings.TrimPrefix(keyDir, "/"))
	if err != nil {
		return nil, cleanup, fmt.Errorf("the installer's keys: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "RPM-GPG-KEY") {
			names = append(names, path.Join(keyDir, e.Name()))
		}
	}
	if len(names) == 0 {
		return nil, cleanup, nil
	}
	dir, err := os.MkdirTemp("", "smith-keys-")
	if err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	for i, n := range names {
		q, fi, err := fsroot.Follow(r, phys, n)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
			continue // a dangling link, or no file
		}
		var b []byte
		if err == nil {
			b, err = r.ReadFile(strings.TrimPrefix(q, "/"))
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("the installer's key %s: %w", n, err)
		}
		k := filepath.Join(dir, fmt.Sprintf("%d-%s", i, path.Base(n)))
		if err := os.WriteFile(k, b, 0o644); err != nil {
			return nil, cleanup, err
		}
		keys = append(keys, k)
	}
	return keys, cleanup, nil
}

// skippedScriptlets warns of the packages whose scriptlets a cross install
// did not run.
func skippedScriptlets(in protocol.Install, run runner, stderr io.Writer) error {
	lines, err := query(in.Root, qfScriptlets, run)
	if err != nil {
		return err
	}
	lines = slices.DeleteFunc(lines, func(l string) bool { return !strings.Contains(l, " ") })
	if len(lines) > 0 {
		fmt.Fprintf(stderr, "smith: installed for %s on %s without emulation: these scriptlets did not run (emulate: true runs them):\n%s\n",
			in.Cross.Target, in.Cross.Build, strings.Join(lines, "\n"))
	}
	return nil
}

// record writes the record of the rpmdb that the trace step reads: every
// package, every file with its package, and a container-manifest-2 line
// per package; the keys rpm keeps as gpg-pubkey packages are left out.
func record(in protocol.Install, run runner) error {
	for _, q := range []struct{ file, format, skip string }{
		{in.Record.Packages, qfPackages, "gpg-pubkey-"},
		{in.Record.Files, qfFiles, ""},
		{in.Record.QA, qfQA, "gpg-pubkey\t"},
	} {
		lines, err := query(in.Root, q.format, run)
		if err != nil {
			return err
		}
		if q.skip != "" {
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, q.skip) })
		}
		if err := os.MkdirAll(filepath.Dir(q.file), 0o755); err != nil {
			return err
		}
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		if err := os.WriteFile(q.file, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// query runs rpm -qa with a query format over root; the lines come back
// sorted bytewise.
func query(root, format string, run runner) ([]string, error) {
	var out bytes.Buffer
	if err := run(&out, "rpm", "--root", root, "-qa", "--qf", format); err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	slices.Sort(lines)
	return lines, nil
}

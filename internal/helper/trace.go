package helper

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/fsroot"
	"github.com/smithbuild/smith/internal/pkgdb"
	"github.com/smithbuild/smith/internal/protocol"
	"github.com/smithbuild/smith/internal/rootfs"
)

// TraceOptions are where the trace command runs a plan.
type TraceOptions struct {
	// Root is the source root folder; symlinks never leave it.
	Root string
	// Out is the output folder; empty only prints the closure.
	Out string
	// Overlay is copied over the output last (smith's rootfs/), its
	// programs traced too; absent or empty is none.
	Overlay string
	// Planned says the job came as a plan, as in a build: an image with
	// nothing in it is then an error.
	Planned bool
	// Stdout gets each entry of the closure with why it is there; Stderr
	// warnings and the output's log.
	Stdout, Stderr io.Writer
}

// Trace runs the trace step's plan: it resolves the closure of p's paths
// in the source root, prints it, and with an output folder writes the
// microcontainer's layer there (the closure, the skeleton, generated
// files, the overlay) and the package manifest at p.Manifest.
func Trace(p protocol.Plan, o TraceOptions) error {
	root, out, overlay, stdout, stderr := o.Root, o.Out, o.Overlay, o.Stdout, o.Stderr
	src, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("opening root: %w", err)
	}
	defer src.Close()
	fsys := src.FS()
	if overlay != "" {
		if err := checkOverlay(overlay); err != nil {
			return err
		}
		ovl, err := os.OpenRoot(overlay)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			overlay = ""
		case err != nil:
			return fmt.Errorf("opening overlay: %w", err)
		default:
			defer ovl.Close()
			// ELF files and scripts the overlay adds need their libraries and interpreters too.
			elves, err := closure.Programs(ovl.FS())
			if err != nil {
				return fmt.Errorf("reading overlay: %w", err)
			}
			for _, e := range elves {
				p.Trace.Paths = append(p.Trace.Paths, closure.Pattern{Glob: escapeGlob(e), Origin: closure.Origin{File: "rootfs" + e}})
			}
			fsys = closure.Union(ovl.FS(), fsys)
		}
	}

	c := &closure.Closure{}
	if len(p.Trace.Paths) > 0 {
		if c, err = closure.Resolve(fsys, p.Trace); err != nil {
			return err
		}
		if err := c.Why(stdout); err != nil {
			return err
		}
		for _, n := range c.Notes {
			fmt.Fprintln(stderr, "warning:", n)
		}
	}
	if out == "" {
		return nil
	}
	if len(c.Entries) == 0 && !p.Parent && isEmptyDir(overlay) && o.Planned {
		return errors.New("nothing to put in the image: smith.yaml names no paths (or every one is excluded), " +
			"the build context has no rootfs/ and there is no parent; the image would hold only smith's skeleton")
	}
	opt := rootfs.Options{
		Epoch:    time.Unix(p.Epoch, 0).UTC(),
		Overlay:  overlay,
		Log:      stderr,
		Writable: p.Writable,
		UID:      p.Owner.UID,
		GID:      p.Owner.GID,
	}
	opt.Files = generatedFiles(p.Files, c)
	if err := rootfs.Write(root, c, out, p.Mkdir, opt); err != nil {
		return err
	}
	if p.Manifest != "" {
		return writeManifest(src, out, p, reasons(c, opt.Files, overlay))
	}
	return nil
}

// isEmptyDir tells whether dir is absent or holds nothing.
func isEmptyDir(dir string) bool {
	if dir == "" {
		return true
	}
	ents, err := os.ReadDir(dir)
	return err != nil || len(ents) == 0
}

// checkOverlay refuses a rootfs/ that is not a directory of the build
// context itself: a symlink there would be followed by os.OpenRoot, out of
// the context into the helper's own container (ln -s /etc rootfs).
func checkOverlay(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("reading rootfs/: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		t, _ := os.Readlink(dir)
		return fmt.Errorf("rootfs: is a symbolic link (to %q): smith takes rootfs/ from the build context only; make it a directory", t)
	case !fi.IsDir():
		return fmt.Errorf("rootfs: is a %s, not a directory", closure.TypeName(fi.Mode()))
	}
	return nil
}

// writeManifest records which package each file of the output comes from:
// from the install step's rpmdb record for RPM builds, else from the
// source's dpkg database when it has one.
func writeManifest(src *os.Root, out string, p protocol.Plan, why map[string][]string) error {
	var db *pkgdb.DB
	var err error
	switch {
	case p.RPM != nil:
		files, err := os.ReadFile(p.RPM.Files)
		if err != nil {
			return fmt.Errorf("reading the rpm file list: %w", err)
		}
		pkgs, err := os.ReadFile(p.RPM.Packages)
		if err != nil {
			return fmt.Errorf("reading the rpm package list: %w", err)
		}
		if db, err = pkgdb.ParseRPM(string(files), string(pkgs), canonical(src)); err != nil {
			return err
		}
		if p.RPM.QA != "" {
			qa, err := os.ReadFile(p.RPM.QA)
			if err != nil {
				return fmt.Errorf("reading the rpm -qa record: %w", err)
			}
			if err := db.AddRPMQA(string(qa)); err != nil {
				return err
			}
		}
	default:
		if db, err = dpkgDB(src); err != nil {
			return err
		}
	}
	if db != nil {
		db.CountInstalled(func(p string) bool {
			fi, err := src.Lstat(strings.TrimPrefix(p, "/"))
			return err == nil && !fi.IsDir()
		})
	}
	if p.Record && db != nil {
		// The files that name the distribution come first, so the
		// manifest sees them with their owner (base-files, *-release).
		if err := copyDistroFiles(src, out, p.Epoch); err != nil {
			return err
		}
	}
	files, err := outputFiles(out)
	if err != nil {
		return err
	}
	for i := range files {
		files[i].Reasons = why[files[i].Path]
		if files[i].Reasons == nil && slices.Contains(distroFiles, strings.TrimPrefix(files[i].Path, "/")) {
			files[i].Reasons = []string{"names the distribution for vulnerability scanners (packagedb)"}
		}
	}
	m := pkgdb.Build(files, db)
	if p.RPM != nil {
		for i, pkg := range m.Packages {
			if pin, ok := p.RPM.Locked[pkg.ID]; ok {
				m.Packages[i].URL, m.Packages[i].SHA256 = pin.URL, pin.SHA256
			}
		}
	}
	for _, name := range []string{"etc/os-release", "usr/lib/os-release"} {
		if b, err := readInRoot(src, name); err == nil {
			m.Distro = pkgdb.ParseOSRelease(string(b))
			break
		}
	}
	if p.Record {
		if err := writeRecord(out, m, db, p.Epoch, files); err != nil {
			return err
		}
	}
	b, err := protocol.EncodeManifest(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.Manifest), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p.Manifest, b, 0o644)
}

// distroFiles name the distribution and its release, for scanners: trivy
// knows Debian by debian_version, Ubuntu by lsb-release, the Red Hat family
// by its *-release files or os-release; syft reads os-release.
var distroFiles = []string{
	"etc/os-release", "etc/debian_version", "etc/lsb-release", "etc/redhat-release", "etc/system-release",
	"etc/centos-release", "etc/fedora-release", "etc/oracle-release", "etc/rocky-release",
	"etc/almalinux-release", "etc/alpine-release",
}

// copyDistroFiles copies the source's distroFiles (links followed) into the
// output, where it has none of its own.
func copyDistroFiles(src *os.Root, out string, epoch int64) error {
	dst, err := os.OpenRoot(out)
	if err != nil {
		return err
	}
	defer dst.Close()
	var add []rootfs.File
	for _, name := range distroFiles {
		// Looked up inside the output: an image whose /etc is an absolute
		// link must not send us to the helper's own /etc.
		if _, err := dst.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if b, err := readInRoot(src, name); err == nil {
			add = append(add, rootfs.File{Path: "/" + name, Mode: 0o644, Data: b})
		}
	}
	if len(add) == 0 {
		return nil
	}
	if err := rootfs.AddFiles(out, add, rootfs.Options{Epoch: time.Unix(epoch, 0).UTC()}); err != nil {
		return fmt.Errorf("copying the distribution's release files: %w", err)
	}
	return nil
}

// writeRecord adds the package record scanners read to the output: the
// contributing packages in the source's format. The manifest lists the
// files it adds.
func writeRecord(out string, m *pkgdb.Manifest, db *pkgdb.DB, epoch int64, files []pkgdb.File) error {
	if db == nil {
		return nil
	}
	md5s := map[string]string{}
	for _, f := range files {
		md5s[f.Path] = f.MD5
	}
	rec := pkgdb.Record(m, db, epoch, func(p string) string { return md5s[p] })
	if len(rec) == 0 {
		return nil
	}
	var add []rootfs.File
	for p, data := range rec {
		add = append(add, rootfs.File{Path: p, Mode: 0o644, Data: data})
	}
	sort.Slice(add, func(i, j int) bool { return add[i].Path < add[j].Path })
	if err := rootfs.AddFiles(out, add, rootfs.Options{Epoch: time.Unix(epoch, 0).UTC()}); err != nil {
		return fmt.Errorf("writing the package record: %w", err)
	}
	for _, f := range add {
		sum := sha256.Sum256(f.Data)
		s1 := sha1.Sum(f.Data)
		m.Files = append(m.Files, pkgdb.File{Path: f.Path, SHA256: hex.EncodeToString(sum[:]), SHA1: hex.EncodeToString(s1[:]),
			Reasons: []string{"package record for vulnerability scanners (packagedb)"}})
		m.Unowned = append(m.Unowned, f.Path)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	sort.Strings(m.Unowned)
	return nil
}

// readInRoot reads name in root, following a final symlink inside the root
// (/etc/os-release is a link to ../usr/lib/os-release).
func readInRoot(root *os.Root, name string) ([]byte, error) {
	phys, _, err := fsroot.Follow(root, closure.PhysicalPaths(root.FS()), "/"+name)
	if err != nil {
		return nil, err
	}
	return root.ReadFile(strings.TrimPrefix(phys, "/"))
}

// reasons says why each output file is there: the closure's reasons, then
// what generated it, and the overlay last (it wins).
func reasons(c *closure.Closure, generated []rootfs.File, overlay string) map[string][]string {
	why := map[string][]string{}
	for _, e := range c.Entries {
		why[e.Path] = e.Reasons
	}
	for _, f := range generated {
		why[f.Path] = []string{"generated by smith (" + path.Base(f.Path) + ")"}
	}
	if overlay != "" {
		if root, err := os.OpenRoot(overlay); err == nil {
			_ = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					why["/"+name] = []string{"from rootfs/ in the build context"}
				}
				return nil
			})
			root.Close()
		}
	}
	return why
}

// outputFiles lists the files of the output folder (not directories) with
// their SHA-256, or their target for symlinks.
func outputFiles(out string) ([]pkgdb.File, error) {
	root, err := os.OpenRoot(out)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var files []pkgdb.File
	err = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f := pkgdb.File{Path: "/" + name}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			if f.Link, err = root.Readlink(name); err != nil {
				return err
			}
		case d.Type().IsRegular():
			r, err := root.Open(name)
			if err != nil {
				return err
			}
			h, h1, h5 := sha256.New(), sha1.New(), md5.New()
			_, err = io.Copy(io.MultiWriter(h, h1, h5), r)
			r.Close()
			if err != nil {
				return err
			}
			f.SHA256, f.SHA1, f.MD5 = hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(h1.Sum(nil)), hex.EncodeToString(h5.Sum(nil))
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the output: %w", err)
	}
	return files, nil
}

// dpkgDB reads the dpkg database of the source root, or returns nil when it
// has none.
func dpkgDB(src *os.Root) (*pkgdb.DB, error) {
	status, err := src.ReadFile("var/lib/dpkg/status")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the dpkg status: %w", err)
	}
	lists := map[string]string{}
	ents, err := fs.ReadDir(src.FS(), "var/lib/dpkg/info")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the dpkg file lists: %w", err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".list") {
			b, err := src.ReadFile("var/lib/dpkg/info/" + e.Name())
			if err != nil {
				return nil, fmt.Errorf("reading the dpkg file lists: %w", err)
			}
			lists[e.Name()] = string(b)
		}
	}
	return pkgdb.ParseDpkg(string(status), lists, canonical(src))
}

// canonical maps a path as a package database lists it to where it is in
// the source tree once every directory link on the way is resolved.
func canonical(src *os.Root) func(string) string {
	phys := closure.PhysicalPaths(src.FS())
	return func(p string) string {
		if c, err := phys(p); err == nil {
			return c
		}
		return p
	}
}

// generatedFiles picks the plan's generated files that apply to the
// closure.
func generatedFiles(files []protocol.File, c *closure.Closure) []rootfs.File {
	have := map[string]bool{}
	for _, e := range c.Entries {
		have[e.Path] = true
	}
	var out []rootfs.File
	for _, f := range files {
		if (f.When == protocol.WhenNSS && !c.NSS) || (f.IfAbsent && have[f.Path]) {
			continue
		}
		out = append(out, rootfs.File{Path: f.Path, Mode: fs.FileMode(f.Mode), Data: []byte(f.Data)})
	}
	return out
}

// escapeGlob quotes the glob metacharacters of a literal path.
func escapeGlob(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(p)
}

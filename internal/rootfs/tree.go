package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/fsroot"
)

// Options tune Write. The zero value works.
type Options struct {
	// Epoch is the mtime of everything written; the zero value means Unix 0.
	Epoch time.Time
	// Overlay is an optional host directory copied over the result last.
	Overlay string
	// Log receives notices, such as dropped setuid bits; nil discards them.
	Log io.Writer
	// Files are generated files, written over the closure and under the
	// overlay.
	Files []File
	// Writable directories (created if missing) are owned by UID:GID
	// instead of root, so the runtime user can write there.
	Writable []string
	UID, GID int
}

// File is a generated file.
type File struct {
	Path string
	Mode fs.FileMode
	Data []byte
}

// Write copies the closure c from srcRoot into outDir (created if needed),
// creates the skeleton directories, writes the generated files, then
// applies the overlay. Closure entries that the source lacks but the overlay
// has (files the overlay adds, traced with it) are left to the overlay.
func Write(srcRoot string, c *closure.Closure, outDir string, skeleton []string, opt Options) error {
	src, err := os.OpenRoot(srcRoot)
	if err != nil {
		return fmt.Errorf("opening source root: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("creating output dir: %w", err)
	}
	out, err := os.OpenRoot(outDir)
	if err != nil {
		return fmt.Errorf("opening output dir: %w", err)
	}
	defer out.Close()

	w := &writer{
		out:    out,
		epoch:  opt.Epoch,
		log:    opt.Log,
		asRoot: os.Geteuid() == 0,
		links:  map[fileKey]string{},
		dirs:   map[string]bool{".": true},
	}
	if w.epoch.IsZero() {
		w.epoch = time.Unix(0, 0)
	}
	if w.log == nil {
		w.log = io.Discard
	}
	if err := dirsAreDirs(c, skeleton); err != nil {
		return err
	}
	for _, d := range skeleton {
		name := rel(d)
		if err := w.parents(name, false); err != nil {
			return err
		}
		if err := w.dir(name, 0o755, false); err != nil {
			return err
		}
	}
	var ovl *os.Root
	if opt.Overlay != "" {
		if ovl, err = os.OpenRoot(opt.Overlay); err != nil {
			return fmt.Errorf("opening overlay: %w", err)
		}
		defer ovl.Close()
	}
	if c != nil {
		for _, e := range c.Entries {
			if ovl != nil && onlyIn(ovl, src, rel(e.Path)) {
				continue
			}
			if err := w.entry(src, e); err != nil {
				return err
			}
		}
	}
	for _, f := range opt.Files {
		if err := w.generated(f); err != nil {
			return err
		}
	}
	if ovl != nil {
		if err := w.overlay(ovl); err != nil {
			return err
		}
	}
	for _, d := range opt.Writable {
		if err := w.writable(rel(d), opt.UID, opt.GID); err != nil {
			return err
		}
	}
	return w.dirTimes()
}

// AddFiles writes more generated files into an output folder that Write
// made, with the same policy (root-owned, 0644/0755, mtimes opt.Epoch):
// the helper adds the image's package record once it knows the contents.
func AddFiles(outDir string, files []File, opt Options) error {
	out, err := os.OpenRoot(outDir)
	if err != nil {
		return fmt.Errorf("opening output dir: %w", err)
	}
	defer out.Close()
	w := &writer{out: out, epoch: opt.Epoch, log: io.Discard, asRoot: os.Geteuid() == 0,
		links: map[fileKey]string{}, dirs: map[string]bool{".": true}}
	if w.epoch.IsZero() {
		w.epoch = time.Unix(0, 0)
	}
	for _, f := range files {
		if err := w.generated(f); err != nil {
			return err
		}
	}
	return w.dirTimes()
}

// dirsAreDirs refuses a skeleton directory (a volume, the working
// directory) where the closure puts a file or a link: copying the entry
// would replace the directory.
func dirsAreDirs(c *closure.Closure, dirs []string) error {
	if c == nil {
		return nil
	}
	kinds := map[string]closure.Kind{}
	for _, e := range c.Entries {
		kinds[e.Path] = e.Kind
	}
	for _, d := range dirs {
		if k, ok := kinds[path.Clean(d)]; ok && k != closure.Dir {
			return fmt.Errorf("%s is a %s of the image (from paths), but mounts and dir make it a directory", d, k)
		}
	}
	return nil
}

// rel turns an absolute image path into a name inside a root.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// fileKey identifies a source inode, per source tree.
type fileKey struct {
	tree  string
	inode fsroot.Inode
}

type writer struct {
	out    *os.Root
	epoch  time.Time
	log    io.Writer
	asRoot bool
	links  map[fileKey]string // first output name of each source inode
	dirs   map[string]bool    // directories whose mtime is set at the end
}

func (w *writer) entry(src *os.Root, e closure.Entry) error {
	name := rel(e.Path)
	if err := w.parents(name, false); err != nil {
		return err
	}
	switch e.Kind {
	case closure.Dir:
		return w.dir(name, e.Mode, false)
	case closure.Symlink:
		return w.symlink(e.Target, name)
	case closure.File:
		fi, err := src.Lstat(name)
		if err != nil {
			return fmt.Errorf("copying %s: %w", e.Path, err)
		}
		return w.file(src, "src", name, fi)
	}
	return fmt.Errorf("copying %s: unknown kind %v", e.Path, e.Kind)
}

// parents makes sure every ancestor of name is a real directory. With
// replace, a non-directory in the way is removed (overlay semantics);
// otherwise it is an error, since writing through it could redirect the
// write.
func (w *writer) parents(name string, replace bool) error {
	if name == "." {
		return nil
	}
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		if w.dirs[p] {
			continue
		}
		fi, err := w.out.Lstat(p)
		if err == nil && fi.IsDir() {
			w.dirs[p] = true
			continue
		}
		if err == nil && !replace {
			return fmt.Errorf("creating /%s: /%s is not a directory", name, p)
		}
		if err := w.dir(p, 0o755, replace); err != nil {
			return err
		}
	}
	return nil
}

// dir makes name a 0755 directory, merging with an existing one.
func (w *writer) dir(name string, srcMode fs.FileMode, replace bool) error {
	w.dropSpecial(srcMode, name)
	fi, err := w.out.Lstat(name)
	switch {
	case err == nil && fi.IsDir():
	case err == nil && !replace:
		return fmt.Errorf("creating directory /%s: a %s is in the way", name, closure.TypeName(fi.Mode()))
	default:
		if err == nil {
			if err := w.out.RemoveAll(name); err != nil {
				return fmt.Errorf("replacing /%s: %w", name, err)
			}
			w.forget(name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := w.out.Mkdir(name, 0o755); err != nil {
			return fmt.Errorf("creating directory /%s: %w", name, err)
		}
	}
	if err := w.out.Chmod(name, 0o755); err != nil {
		return err
	}
	if w.asRoot {
		if err := w.out.Lchown(name, 0, 0); err != nil {
			return err
		}
	}
	w.dirs[name] = true
	return nil
}

// remove clears name for a new file or link; a missing name is fine.
func (w *writer) remove(name string) error {
	if _, err := w.out.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := w.out.RemoveAll(name); err != nil {
		return fmt.Errorf("replacing /%s: %w", name, err)
	}
	w.forget(name)
	return nil
}

// forget drops name and everything below it from the directories whose
// times are set at the end: they were just removed.
func (w *writer) forget(name string) {
	for d := range w.dirs {
		if d == name || strings.HasPrefix(d, name+"/") {
			delete(w.dirs, d)
		}
	}
}

func (w *writer) symlink(target, name string) error {
	if err := w.remove(name); err != nil {
		return err
	}
	if err := w.out.Symlink(target, name); err != nil {
		return fmt.Errorf("creating symlink /%s: %w", name, err)
	}
	if w.asRoot {
		if err := w.out.Lchown(name, 0, 0); err != nil {
			return err
		}
	}
	return fsroot.Lutimes(w.out, name, w.epoch, w.epoch)
}

// file copies the regular file srcName of src (described by fi, from Lstat)
// to name, or hard-links it to an earlier copy of the same inode.
func (w *writer) file(src *os.Root, tree, name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("copying /%s: source is a %s, not a regular file", name, closure.TypeName(fi.Mode()))
	}
	if err := w.remove(name); err != nil {
		return err
	}
	ino, hasKey := fsroot.InodeOf(fi)
	key := fileKey{tree: tree, inode: ino}
	if hasKey {
		if first, ok := w.links[key]; ok {
			if err := w.out.Link(first, name); err != nil {
				return fmt.Errorf("linking /%s to /%s: %w", name, first, err)
			}
			return nil
		}
	}
	if err := w.copyFile(src, name, fi); err != nil {
		return fmt.Errorf("copying /%s: %w", name, err)
	}
	if hasKey {
		w.links[key] = name
	}
	return nil
}

func (w *writer) copyFile(src *os.Root, name string, fi fs.FileInfo) error {
	in, err := src.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	// The source must still be the file Lstat saw, not something swapped in.
	if got, err := in.Stat(); err != nil || !os.SameFile(got, fi) {
		return fmt.Errorf("source changed while copying")
	}
	mode := w.fileMode(fi.Mode(), name)
	f, err := w.out.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, in)
	if err == nil && w.asRoot {
		err = f.Chown(0, 0)
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return w.out.Chtimes(name, w.epoch, w.epoch)
}

func (w *writer) fileMode(m fs.FileMode, name string) fs.FileMode {
	w.dropSpecial(m, name)
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

func (w *writer) dropSpecial(m fs.FileMode, name string) {
	var bits []string
	if m&fs.ModeSetuid != 0 {
		bits = append(bits, "setuid")
	}
	if m&fs.ModeSetgid != 0 {
		bits = append(bits, "setgid")
	}
	if m&fs.ModeSticky != 0 {
		bits = append(bits, "sticky")
	}
	if len(bits) > 0 {
		fmt.Fprintf(w.log, "dropped %s bit from /%s\n", strings.Join(bits, " and "), strings.TrimPrefix(name, "."))
	}
}

// onlyIn reports whether name exists in a but not in b.
func onlyIn(a, b *os.Root, name string) bool {
	if _, err := b.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, err := a.Lstat(name)
	return err == nil
}

// generated writes a generated file, replacing what is there.
func (w *writer) generated(f File) error {
	name := rel(f.Path)
	if err := w.parents(name, true); err != nil {
		return err
	}
	if err := w.remove(name); err != nil {
		return err
	}
	out, err := w.out.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing /%s: %w", name, err)
	}
	_, err = out.Write(f.Data)
	if err == nil && w.asRoot {
		err = out.Chown(0, 0)
	}
	if err == nil {
		err = out.Chmod(w.fileMode(f.Mode, name))
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing /%s: %w", name, err)
	}
	return w.out.Chtimes(name, w.epoch, w.epoch)
}

// writable makes name a directory owned by uid:gid.
func (w *writer) writable(name string, uid, gid int) error {
	if err := w.parents(name, false); err != nil {
		return err
	}
	if err := w.dir(name, 0o755, false); err != nil {
		return err
	}
	if w.asRoot {
		if err := w.out.Lchown(name, uid, gid); err != nil {
			return fmt.Errorf("handing /%s to %d:%d: %w", name, uid, gid, err)
		}
	}
	return nil
}

// overlay copies the opened overlay directory over the output.
func (w *writer) overlay(ovl *os.Root) error {
	return fs.WalkDir(ovl.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading overlay: %w", err)
		}
		if name == "." {
			return nil
		}
		if err := w.parents(name, true); err != nil {
			return err
		}
		fi, err := ovl.Lstat(name)
		if err != nil {
			return fmt.Errorf("reading overlay: %w", err)
		}
		switch {
		case fi.IsDir():
			return w.dir(name, fi.Mode(), true)
		case fi.Mode().IsRegular():
			if path.Base(name) == ".gitignore" {
				return nil
			}
			return w.file(ovl, "overlay", name, fi)
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := ovl.Readlink(name)
			if err != nil {
				return fmt.Errorf("reading overlay: %w", err)
			}
			return w.symlink(t, name)
		default:
			fmt.Fprintf(w.log, "skipped %s /%s from the overlay\n", closure.TypeName(fi.Mode()), name)
			return nil
		}
	})
}

// dirTimes sets directory mtimes last, deepest first, once nothing else
// will be created in them.
func (w *writer) dirTimes() error {
	names := make([]string, 0, len(w.dirs))
	for d := range w.dirs {
		names = append(names, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, d := range names {
		if err := w.out.Chtimes(d, w.epoch, w.epoch); err != nil {
			return fmt.Errorf("setting time of /%s: %w", d, err)
		}
	}
	return nil
}

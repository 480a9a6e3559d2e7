package imagearchive

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/fsroot"
)

// Whiteout prefixes of the OCI layer format.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// ApplyLayer extracts layer k (0-based) onto root, which holds the result
// of the layers below it. The layer blob is verified before anything is
// written. Notices (skipped devices) go to log, which may be nil.
func (img *Image) ApplyLayer(k int, root *os.Root, log io.Writer) error {
	if k < 0 || k >= len(img.Layers) {
		return fmt.Errorf("%s: no layer %d (the image has %d)", img.a.name, k, len(img.Layers))
	}
	if log == nil {
		log = io.Discard
	}
	l := img.Layers[k]
	prefix := fmt.Sprintf("%s: layer %d", img.a.name, k)
	if err := img.verifyLayer(l); err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	sr, err := img.a.open(l.member)
	if err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	rd, err := layerReader(sr)
	if err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	defer rd.Close()
	limited := &limitReader{r: rd, left: img.a.maxBytes}
	ap := &applier{
		root:    root,
		prefix:  prefix,
		log:     log,
		created: map[string]bool{},
		asRoot:  os.Geteuid() == 0,
		budget:  img.a.maxBytes,
		max:     img.a.maxBytes,
	}
	if err := ap.apply(tar.NewReader(limited)); err != nil {
		if limited.over {
			return fmt.Errorf("%s: decompresses to more than %d bytes, the limit (raise it with --build-arg SMITH_MAX_ARCHIVE_BYTES=N)", prefix, img.a.maxBytes)
		}
		return err
	}
	return nil
}

// limitReader fails once more than left bytes are read.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.left <= 0 {
		l.over = true
		return 0, errors.New("size limit reached")
	}
	if int64(len(b)) > l.left {
		b = b[:l.left]
	}
	n, err := l.r.Read(b)
	l.left -= int64(n)
	return n, err
}

// verifyLayer reads the layer blob once and checks its digest, or the
// digest of its uncompressed content when the archive only gives a DiffID.
func (img *Image) verifyLayer(l Layer) error {
	sr, err := img.a.open(l.member)
	if err != nil {
		return err
	}
	if l.Digest != "" {
		return stripName(img.a.verify(sr, sr.Size(), l.Descriptor), img.a.name)
	}
	rd, err := layerReader(sr)
	if err != nil {
		return err
	}
	defer rd.Close()
	return stripName(img.a.verify(rd, -1, ocispec.Descriptor{Digest: l.DiffID}), img.a.name)
}

// stripName drops the archive name verify puts first, since the caller's
// prefix has it.
func stripName(err error, name string) error {
	if err == nil {
		return nil
	}
	return errors.New(strings.TrimPrefix(err.Error(), name+": "))
}

// layerReader decompresses a layer blob after sniffing its first bytes.
func layerReader(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	return decompressor(compression(magic), br)
}

type applier struct {
	budget  int64 // bytes the layer's files may still hold, of max
	max     int64
	root    *os.Root
	prefix  string
	log     io.Writer
	asRoot  bool
	created map[string]bool // resolved paths this layer made
	dirs    []dirTime       // directory mtimes, set last
}

type dirTime struct {
	name         string
	atime, mtime time.Time
}

func (ap *applier) apply(tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: reading the layer: %w", ap.prefix, err)
		}
		if err := ap.entry(tr, h); err != nil {
			return err
		}
	}
	for i := len(ap.dirs) - 1; i >= 0; i-- {
		d := ap.dirs[i]
		if err := ap.root.Chtimes(d.name, d.atime, d.mtime); err != nil {
			return fmt.Errorf("%s: %w", ap.prefix, err)
		}
	}
	return nil
}

// errf formats an error about entry name.
func (ap *applier) errf(name, format string, args ...any) error {
	return fmt.Errorf("%s: entry %q: %s", ap.prefix, name, fmt.Sprintf(format, args...))
}

// clean validates an entry name (or hard link target) and makes it
// relative to the root; "." is the root itself.
func (ap *applier) clean(entry, name string) (string, error) {
	if len(name) > MaxNameBytes {
		return "", fmt.Errorf("%s: an entry name of %d bytes (%.40q…) is longer than %d, the limit", ap.prefix, len(name), name, MaxNameBytes)
	}
	for _, c := range strings.Split(name, "/") {
		if len(c) > MaxComponentBytes {
			return "", fmt.Errorf("%s: entry %.60q…: a name component of %d bytes is longer than %d, the limit", ap.prefix, name, len(c), MaxComponentBytes)
		}
	}
	if strings.HasPrefix(name, "/") {
		return "", ap.escapes(entry, name)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", ap.escapes(entry, name)
		}
	}
	name = path.Clean(name)
	if name == "" {
		name = "."
	}
	return name, nil
}

func (ap *applier) escapes(entry, name string) error {
	if entry == name {
		return fmt.Errorf("%s: entry %q escapes the root", ap.prefix, entry)
	}
	return fmt.Errorf("%s: entry %q: link target %q escapes the root", ap.prefix, entry, name)
}

func (ap *applier) entry(tr *tar.Reader, h *tar.Header) error {
	name, err := ap.clean(h.Name, h.Name)
	if err != nil {
		return err
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")

	switch h.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		fmt.Fprintf(ap.log, "%s: skipping %s %q\n", ap.prefix, kindName(h.Typeflag), h.Name)
		return nil
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeGNUSparse:
	default:
		fmt.Fprintf(ap.log, "%s: skipping %q of unknown type %q\n", ap.prefix, h.Name, h.Typeflag)
		return nil
	}

	if strings.HasPrefix(base, whiteoutPrefix) { // opaque ones too
		return ap.whiteout(h, dir, base)
	}

	// The root directory itself.
	if name == "." {
		if h.Typeflag != tar.TypeDir {
			return ap.errf(h.Name, "the root is not a directory")
		}
		return ap.meta(h, ".", true)
	}

	parent, err := ap.resolveDir(h.Name, dir, true)
	if err != nil {
		return err
	}
	target := path.Join(parent, base)
	keptDir, err := ap.replace(h, target)
	if err != nil {
		return err
	}

	switch h.Typeflag {
	case tar.TypeDir:
		if keptDir {
			break
		}
		if err := ap.root.Mkdir(target, 0o700); err != nil {
			return ap.errf(h.Name, "%v", err)
		}
	case tar.TypeReg, tar.TypeGNUSparse:
		if err := ap.writeFile(tr, h, target); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := ap.root.Symlink(h.Linkname, target); err != nil {
			return ap.errf(h.Name, "%v", err)
		}
	case tar.TypeLink:
		if err := ap.hardLink(h, target); err != nil {
			return err
		}
		ap.created[target] = true
		return nil // a hard link shares its target's metadata
	}
	ap.created[target] = true
	return ap.meta(h, target, h.Typeflag == tar.TypeDir)
}

// whiteout applies a whiteout entry named base in dir: an opaque one
// empties dir, another deletes its target from the layers below.
func (ap *applier) whiteout(h *tar.Header, dir, base string) error {
	if base == whiteoutOpaque {
		parent, err := ap.resolveDir(h.Name, dir, true)
		if err != nil {
			return err
		}
		return ap.opaque(h.Name, parent)
	}
	target := base[len(whiteoutPrefix):]
	if strings.HasPrefix(target, whiteoutPrefix) {
		// .wh..wh.plnk and friends: aufs bookkeeping, not content.
		return nil
	}
	if target == "" || target == "." || target == ".." {
		return ap.errf(h.Name, "invalid whiteout")
	}
	parent, err := ap.resolveDir(h.Name, dir, false)
	if err != nil || parent == "" {
		return err // nothing below to delete
	}
	victim := path.Join(parent, target)
	if ap.created[victim] {
		return nil // whiteouts hide lower layers only
	}
	if err := ap.root.RemoveAll(victim); err != nil {
		return ap.errf(h.Name, "whiteout: %v", err)
	}
	return nil
}

// replace removes what is at target for entry h, unless both are
// directories: keptDir reports that case.
func (ap *applier) replace(h *tar.Header, target string) (keptDir bool, err error) {
	fi, err := ap.root.Lstat(target)
	switch {
	case err == nil && fi.IsDir() && h.Typeflag == tar.TypeDir:
		return true, nil
	case err == nil:
		if err := ap.root.RemoveAll(target); err != nil {
			return false, ap.errf(h.Name, "replacing: %v", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, ap.errf(h.Name, "%v", err)
	}
	return false, nil
}

// writeFile writes the regular (or sparse) file of entry h at target.
func (ap *applier) writeFile(tr *tar.Reader, h *tar.Header, target string) error {
	// Sparse entries expand holes into zeros that were never read, so
	// the budget counts what is written, not what is read.
	if ap.budget -= h.Size; ap.budget < 0 {
		return fmt.Errorf("%s: decompresses to more than %d bytes, the limit (raise it with --build-arg SMITH_MAX_ARCHIVE_BYTES=N)", ap.prefix, ap.max)
	}
	f, err := ap.root.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return ap.errf(h.Name, "%v", err)
	}
	_, err = io.Copy(f, tr)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ap.errf(h.Name, "%v", err)
	}
	return nil
}

// hardLink makes target a hard link to the file entry h links to, which
// must be inside the root and already there.
func (ap *applier) hardLink(h *tar.Header, target string) error {
	old, err := ap.clean(h.Name, h.Linkname)
	if err != nil {
		return err
	}
	if old == "." {
		return ap.errf(h.Name, "hard link to the root directory")
	}
	odir, obase := path.Split(old)
	oparent, err := ap.resolveDir(h.Name, strings.TrimSuffix(odir, "/"), false)
	if err != nil {
		return err
	}
	if oparent == "" {
		return ap.errf(h.Name, "hard link target %q does not exist", h.Linkname)
	}
	if err := ap.root.Link(path.Join(oparent, obase), target); err != nil {
		return ap.errf(h.Name, "hard link to %q: %v", h.Linkname, err)
	}
	return nil
}

// meta applies ownership, mode and times. Directory times are set at the
// end of the layer, since entries written into them change them.
func (ap *applier) meta(h *tar.Header, name string, isDir bool) error {
	if err := ap.root.Lchown(name, h.Uid, h.Gid); err != nil && (ap.asRoot || !errors.Is(err, syscall.EPERM)) {
		return ap.errf(h.Name, "%v", err)
	}
	atime := h.AccessTime
	if atime.IsZero() {
		atime = h.ModTime
	}
	if h.Typeflag == tar.TypeSymlink {
		if err := fsroot.Lutimes(ap.root, name, atime, h.ModTime); err != nil {
			return ap.errf(h.Name, "%v", err)
		}
		return nil
	}
	// After chown, which clears setuid and setgid.
	mode := h.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if err := ap.root.Chmod(name, mode); err != nil {
		return ap.errf(h.Name, "%v", err)
	}
	if isDir {
		ap.dirs = append(ap.dirs, dirTime{name, atime, h.ModTime})
		return nil
	}
	if err := ap.root.Chtimes(name, atime, h.ModTime); err != nil {
		return ap.errf(h.Name, "%v", err)
	}
	return nil
}

// opaque empties dir of what lower layers put there, keeping what this
// layer made.
func (ap *applier) opaque(entry, dir string) error {
	f, err := ap.root.Open(dir)
	if err != nil {
		return ap.errf(entry, "opaque whiteout: %v", err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return ap.errf(entry, "opaque whiteout: %v", err)
	}
	for _, n := range names {
		p := path.Join(dir, n)
		if !ap.created[p] {
			if err := ap.root.RemoveAll(p); err != nil {
				return ap.errf(entry, "opaque whiteout: %v", err)
			}
			continue
		}
		if fi, err := ap.root.Lstat(p); err == nil && fi.IsDir() {
			if err := ap.opaque(entry, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveDir resolves the directory dir (a clean relative name, "" or "."
// for the root) inside the root the way a container whose root is the root
// would see it: symlinks are followed, an absolute target starts again at
// the root and ".." stops at it. The result names a real directory through
// real directories only. Missing directories are created (0755, root
// owned) when create is set; otherwise "" is returned for a missing one.
func (ap *applier) resolveDir(entry, dir string, create bool) (string, error) {
	w := closure.Walk{
		Lstat:    func(name string) (fs.FileInfo, error) { return ap.root.Lstat(rootName(name)) },
		ReadLink: func(name string) (string, error) { return ap.root.Readlink(rootName(name)) },
		MaxLinks: maxLinks,
		Dir:      true,
		Missing: func(name string) error {
			if !create {
				return errAbsent
			}
			cur := rootName(name)
			if err := ap.root.Mkdir(cur, 0o755); err != nil {
				return err
			}
			if err := ap.root.Chmod(cur, 0o755); err != nil { // whatever the umask
				return err
			}
			ap.created[cur] = true
			return nil
		},
	}
	phys, err := w.Resolve(dir)
	// The walk's own errors are its sentinels, unwrapped (and so is
	// errAbsent); the rest are the os.Root's.
	switch {
	case err == errAbsent:
		return "", nil
	case err == closure.ErrNotDir:
		return "", ap.errf(entry, "%s is not a directory", phys)
	case err != nil:
		return "", ap.errf(entry, "%v", err) // ErrLoop says "too many levels of symbolic links"
	}
	return rootName(phys), nil
}

// errAbsent stops resolveDir's walk at a missing directory it may not
// create.
var errAbsent = errors.New("no such directory")

// rootName turns a walk's absolute clean path into an os.Root name.
func rootName(p string) string {
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

func kindName(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return "entry"
}

package closure

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// maxHops bounds the symlinks followed while resolving one path, as in
// Linux's path walk.
const maxHops = 255

type resolver struct {
	fsys     fs.FS
	links    fs.ReadLinkFS // nil when fsys cannot read links
	req      Request
	excludes []string

	entries map[string]*Entry
	walked  map[string]bool
	elfs    map[string]elfResult
	traced  map[string]bool
	// tracedELF and elfOrder are the physical ELF objects traced, as a set
	// and in the order met, for inference.
	tracedELF map[string]bool
	elfOrder  []string
	inferred  map[string]bool // inferences done, by name
	notes     []string
	dlopens   []DlopenUse
	nss       bool
	ldconf    []string
	ldDone    bool

	errs    []error
	errSeen map[string]bool
}

func newResolver(fsys fs.FS, req Request) *resolver {
	r := &resolver{
		fsys:    fsys,
		req:     req,
		entries: map[string]*Entry{},
		walked:  map[string]bool{},
		elfs:    map[string]elfResult{},
		traced:  map[string]bool{},
		errSeen: map[string]bool{},

		tracedELF: map[string]bool{},
		inferred:  map[string]bool{},
	}
	r.links, _ = fsys.(fs.ReadLinkFS)
	return r
}

func (r *resolver) fail(err error) {
	if r.errSeen[err.Error()] {
		return
	}
	r.errSeen[err.Error()] = true
	r.errs = append(r.errs, err)
}

func (r *resolver) err() error {
	if len(r.errs) == 1 {
		return r.errs[0]
	}
	return errors.Join(r.errs...)
}

// fsName turns an absolute clean path into an fs.FS name.
func fsName(p string) string {
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

// cleanAbs makes p absolute (relative means root-relative) and clean.
func cleanAbs(p string) string {
	return path.Clean("/" + p)
}

func (r *resolver) lstat(p string) (fs.FileInfo, error) {
	if r.links != nil {
		return r.links.Lstat(fsName(p))
	}
	return fs.Stat(r.fsys, fsName(p))
}

func (r *resolver) readlink(p string) (string, error) {
	if r.links == nil {
		return "", fmt.Errorf("reading link %s: file system cannot read links", p)
	}
	return r.links.ReadLink(fsName(p))
}

// hop is one symlink met while resolving a path.
type hop struct {
	path   string // physical location of the link
	target string
	info   fs.FileInfo
}

// follow resolves the absolute path p inside the root, following every
// symlink (the last component included). It returns the physical path (no
// symlink in any component) and the links met on the way. A missing
// component gives an error matching fs.ErrNotExist, together with the hops
// met so far; a loop gives ErrLoop.
func (r *resolver) follow(p string) (string, []hop, error) {
	var hops []hop
	w := Walk{
		Lstat:    r.lstat,
		ReadLink: r.readlink,
		MaxLinks: maxHops,
		Link: func(name, target string, fi fs.FileInfo) {
			hops = append(hops, hop{path: name, target: target, info: fi})
		},
	}
	phys, err := w.Resolve(p)
	// The walk's own errors are its sentinels, unwrapped; an error of lstat
	// or readlink goes out as it came, even one that wraps a sentinel.
	switch err {
	case ErrLoop:
		return phys, hops, fmt.Errorf("resolving %s: %w", p, ErrLoop)
	case ErrNotDir:
		return phys, hops, fmt.Errorf("resolving %s: %s: %w", p, phys, ErrNotDir)
	}
	return phys, hops, err
}

// missing tells a path that is simply absent (or dangling) from a real error.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrLoop)
}

func (r *resolver) add(p string, k Kind, fi fs.FileInfo, target, reason string) {
	e, ok := r.entries[p]
	if !ok {
		e = &Entry{Path: p, Kind: k, Mode: fi.Mode(), Target: target}
		r.entries[p] = e
	}
	for _, have := range e.Reasons {
		if have == reason {
			return
		}
	}
	e.Reasons = append(e.Reasons, reason)
}

// place adds the symlinks on the way to the logical path p and the object
// at its end (a directory or regular file, not its contents). It returns the
// physical path and its info, or a nil info when p is excluded, dangling or
// a special file.
func (r *resolver) place(p, reason string) (string, fs.FileInfo, error) {
	if r.excluded(p) {
		return "", nil, nil
	}
	phys, hops, err := r.follow(p)
	for _, h := range hops {
		if h.path == p && r.entries[p] != nil {
			continue // a link met in a walked tree: already listed with its reason
		}
		if !r.excluded(h.path) {
			r.add(h.path, Symlink, h.info, h.target, "symlink on the way to "+p)
		}
	}
	if err != nil {
		if missing(err) {
			return "", nil, nil
		}
		return "", nil, err
	}
	if r.excluded(phys) {
		return "", nil, nil
	}
	fi, err := r.lstat(phys)
	if err != nil {
		return "", nil, err
	}
	switch {
	case fi.IsDir():
		r.add(phys, Dir, fi, "", reason)
	case fi.Mode().IsRegular():
		r.add(phys, File, fi, "", reason)
	default:
		return "", nil, nil
	}
	return phys, fi, nil
}

// special names the type of the file p resolves to when it is neither a
// regular file, a directory nor a symlink (a device, a pipe, a socket), or
// returns "".
func (r *resolver) special(p string) string {
	phys, _, err := r.follow(p)
	if err != nil {
		return ""
	}
	fi, err := r.lstat(phys)
	if err != nil || fi.IsDir() || fi.Mode().IsRegular() {
		return ""
	}
	return TypeName(fi.Mode())
}

// TypeName names the kind of file m describes, for messages: "file",
// "directory", "symlink", "character device", "block device", "named
// pipe", "socket" or "special file".
func TypeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// request adds p like place does, then the whole tree below a directory,
// or the libraries of an ELF file.
func (r *resolver) request(p, reason string, origin Origin) error {
	phys, fi, err := r.place(p, reason)
	if err != nil || fi == nil {
		return err
	}
	if fi.IsDir() {
		return r.walk(phys, phys, origin)
	}
	r.trace(phys, origin, nil, true)
	return nil
}

// walk adds everything below the physical directory dir without following
// links, then adds the targets of the links it met so they work in the image.
func (r *resolver) walk(dir, top string, origin Origin) error {
	if r.walked[dir] {
		return nil
	}
	r.walked[dir] = true
	ents, err := fs.ReadDir(r.fsys, fsName(dir))
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", dir, err)
	}
	reason := "in tree " + top
	for _, de := range ents {
		p := path.Join(dir, de.Name())
		if r.excluded(p) {
			continue
		}
		fi, err := r.lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			r.add(p, Dir, fi, "", reason)
			if err := r.walk(p, top, origin); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			r.add(p, File, fi, "", reason)
			r.trace(p, origin, nil, fi.Mode()&0o111 != 0)
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := r.readlink(p)
			if err != nil {
				return err
			}
			r.add(p, Symlink, fi, t, reason)
			if err := r.request(p, "target of symlink "+p, origin); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) compileExcludes() error {
	var errs []error
	for _, ex := range r.req.Excludes {
		g, err := normalizeGlob(ex.Glob)
		if err != nil {
			errs = append(errs, withOrigin(ex.Origin, err))
			continue
		}
		r.excludes = append(r.excludes, g)
	}
	return errors.Join(errs...)
}

// excluded reports whether p or one of its ancestors matches an exclude.
func (r *resolver) excluded(p string) bool {
	if len(r.excludes) == 0 {
		return false
	}
	for q := p; ; q = path.Dir(q) {
		for _, ex := range r.excludes {
			if ok, _ := matchPath(ex, q); ok {
				return true
			}
		}
		if q == "/" {
			return false
		}
	}
}

func matchPath(pattern, name string) (bool, error) {
	return path.Match(pattern, name)
}

func readFileAt(r *resolver, phys string) ([]byte, error) {
	return fs.ReadFile(r.fsys, fsName(phys))
}

package closure

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ErrLoop is what Walk.Resolve returns, unwrapped, when a path needs more
// than MaxLinks symlinks.
var ErrLoop = errors.New("too many levels of symbolic links")

// ErrNotDir is what Walk.Resolve returns, unwrapped, when a path walks
// through a non-directory. It matches fs.ErrNotExist, so the closure counts
// such a path as missing, like a dangling link.
var ErrNotDir = fmt.Errorf("not a directory: %w", fs.ErrNotExist)

// Walk resolves paths inside a root the way the kernel's path walk would
// if the root were "/": every symlink is followed, the last component's
// too; an absolute target starts over at the root; ".." stops at the root.
// It reads the root only through its funcs, so it serves an fs.FS (the
// closure) as well as a root being written (image layers), and no path it
// returns or passes to them can name anything outside the root.
//
// Paths given to the funcs and returned are absolute and clean; "/" is the
// root, which is never looked up.
type Walk struct {
	Lstat    func(name string) (fs.FileInfo, error)
	ReadLink func(name string) (string, error)

	// MaxLinks bounds the symlinks followed in one Resolve: one more is
	// ErrLoop.
	MaxLinks int

	// Dir makes a non-directory at the end of the path ErrNotDir too, not
	// only one with components after it.
	Dir bool

	// Missing, when set, is called with a component whose Lstat error
	// matches fs.ErrNotExist. If it returns nil the component is taken as a
	// directory (Missing made it) and the walk goes on; its error stops the
	// walk. Without Missing, the Lstat error stops it.
	Missing func(name string) error

	// Link, when set, is told of each symlink followed, in the order met,
	// once its target is read.
	Link func(name, target string, fi fs.FileInfo)
}

// Resolve returns the physical path p (absolute or root-relative) names:
// no component of it is a symlink. On error it returns the component the
// walk stopped at, with ErrLoop, ErrNotDir, or the error of Lstat, ReadLink
// or Missing unchanged.
func (w Walk) Resolve(p string) (string, error) {
	todo := strings.Split(p, "/")
	cur := "/"
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur) // path.Dir("/") is "/": clamped at the root
			continue
		}
		next := path.Join(cur, c)
		fi, err := w.Lstat(next)
		if err != nil {
			if w.Missing == nil || !errors.Is(err, fs.ErrNotExist) {
				return next, err
			}
			if err := w.Missing(next); err != nil {
				return next, err
			}
			cur = next
			continue
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > w.MaxLinks {
				return next, ErrLoop
			}
			t, err := w.ReadLink(next)
			if err != nil {
				return next, err
			}
			if w.Link != nil {
				w.Link(next, t, fi)
			}
			if path.IsAbs(t) {
				cur = "/"
			}
			todo = append(strings.Split(t, "/"), todo...)
			continue
		}
		if !fi.IsDir() && (w.Dir || hasComponents(todo)) {
			return next, ErrNotDir
		}
		cur = next
	}
	return cur, nil
}

func hasComponents(parts []string) bool {
	for _, c := range parts {
		if c != "" && c != "." {
			return true
		}
	}
	return false
}

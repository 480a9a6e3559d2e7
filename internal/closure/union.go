package closure

import (
	"io/fs"
	"sort"
)

// Union shows upper over lower, as a layered filesystem does: a name that
// exists in upper hides the same name in lower, and directories list the
// entries of both. The helper uses it to trace the files smith's rootfs/
// overlay adds, against libraries that may come from either side. Both
// should implement fs.ReadLinkFS, or symlinks are invisible.
func Union(upper, lower fs.FS) fs.FS {
	return unionFS{upper: upper, lower: lower}
}

type unionFS struct{ upper, lower fs.FS }

var (
	_ fs.ReadLinkFS = unionFS{}
	_ fs.ReadDirFS  = unionFS{}
	_ fs.ReadFileFS = unionFS{}
)

// pick returns the layer that holds name: upper when it has it.
func (u unionFS) pick(name string) fs.FS {
	if _, err := fs.Lstat(u.upper, name); err == nil {
		return u.upper
	}
	return u.lower
}

func (u unionFS) Open(name string) (fs.File, error) { return u.pick(name).Open(name) }

func (u unionFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(u.pick(name), name) }

func (u unionFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(u.pick(name), name) }

func (u unionFS) ReadLink(name string) (string, error) { return fs.ReadLink(u.pick(name), name) }

func (u unionFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if fi, err := fs.Lstat(u.upper, name); err == nil && !fi.IsDir() {
		// A non-directory in upper hides a directory below it.
		return fs.ReadDir(u.upper, name)
	}
	up, uerr := fs.ReadDir(u.upper, name)
	low, lerr := fs.ReadDir(u.lower, name)
	if uerr != nil && lerr != nil {
		return nil, lerr
	}
	seen := map[string]bool{}
	out := up
	for _, e := range up {
		seen[e.Name()] = true
	}
	for _, e := range low {
		if !seen[e.Name()] {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Programs lists the files of fsys that need tracing when they are copied:
// ELF files, and scripts ("#!") with an exec bit. Paths are absolute.
func Programs(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := fsys.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		var magic [4]byte
		n, _ := f.Read(magic[:])
		switch {
		case n == 4 && string(magic[:]) == "\x7fELF":
			out = append(out, "/"+name)
		case n >= 2 && string(magic[:2]) == "#!":
			if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
				out = append(out, "/"+name)
			}
		}
		return nil
	})
	return out, err
}

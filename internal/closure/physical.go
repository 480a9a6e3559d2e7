package closure

import (
	"io/fs"
	"path"
)

// PhysicalPaths returns a function that maps an absolute path to where it
// is inside the root of fsys once every directory symlink on the way is
// resolved (confined to the root, as always); the last component is kept,
// link or not. Package databases list paths as packaged ("/bin/ls") while
// an image built from them may hold the physical path ("/usr/bin/ls").
// Resolved directories are remembered between calls.
func PhysicalPaths(fsys fs.FS) func(string) (string, error) {
	r := newResolver(fsys, Request{})
	dirs := map[string]string{"/": "/"}
	return func(p string) (string, error) {
		p = cleanAbs(p)
		if p == "/" {
			return p, nil
		}
		d := path.Dir(p)
		phys, ok := dirs[d]
		if !ok {
			var err error
			if phys, _, err = r.follow(d); err != nil {
				return "", err
			}
			dirs[d] = phys
		}
		return path.Join(phys, path.Base(p)), nil
	}
}

package fsroot

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Follow resolves p inside root, every symlink included (the last
// component too), never leaving the root: it returns the physical path and
// what is there. Absolute link targets are taken inside the root, as the
// image would see them. phys is closure.PhysicalPaths of the root, which
// remembers the directories it resolved: callers that follow many paths
// make it once.
func Follow(root *os.Root, phys func(string) (string, error), p string) (string, fs.FileInfo, error) {
	for range 40 {
		q, err := phys(p)
		if err != nil {
			return "", nil, err
		}
		name := strings.TrimPrefix(q, "/")
		fi, err := root.Lstat(name)
		if err != nil {
			return "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return q, fi, nil
		}
		t, err := root.Readlink(name)
		if err != nil {
			return "", nil, err
		}
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(q), t)
		}
		p = t
	}
	return "", nil, errors.New(p + ": too many levels of symbolic links")
}

//go:build unix

package fsroot

import (
	"io/fs"
	"syscall"
)

// InodeOf returns the device and inode of what fi describes, where the
// system has them.
func InodeOf(fi fs.FileInfo) (Inode, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Inode{}, false
	}
	return Inode{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, true
}

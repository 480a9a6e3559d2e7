//go:build !unix

package fsroot

import "io/fs"

// InodeOf reports false: this system has no inode numbers to compare.
func InodeOf(fs.FileInfo) (Inode, bool) { return Inode{}, false }

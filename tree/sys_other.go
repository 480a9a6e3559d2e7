//go:build !unix

package tree

import "io/fs"

func inode(fs.FileInfo) (fileKey, bool) { return fileKey{}, false }

// Package fsroot holds the file-system helpers that work inside an
// os.Root: following a path's symlinks without leaving the root (Follow),
// setting a symlink's own times (Lutimes), and telling hard links apart by
// inode (InodeOf). The helper's trace and unpack steps share them.
package fsroot

// Inode identifies a file on one file system: hard links share it.
type Inode struct{ Dev, Ino uint64 }

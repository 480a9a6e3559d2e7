//go:build !unix

package fsroot

import (
	"os"
	"time"
)

// Lutimes is a no-op where symlink times cannot be set without following
// the link.
func Lutimes(root *os.Root, name string, atime, mtime time.Time) error { return nil }

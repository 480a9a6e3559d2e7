//go:build !unix

package imagearchive

import (
	"os"
	"time"
)

// lutimes is a no-op where symlink times cannot be set without following
// the link.
func lutimes(root *os.Root, name string, atime, mtime time.Time) error { return nil }

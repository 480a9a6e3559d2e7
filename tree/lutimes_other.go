//go:build !linux

package tree

import (
	"os"
	"time"
)

// lutimes is a no-op where there is no portable way to set a symlink's
// times inside an os.Root; only symlink mtimes are affected.
func lutimes(*os.Root, string, time.Time) error { return nil }

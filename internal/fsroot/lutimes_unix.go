//go:build unix

package fsroot

import (
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"
)

// Lutimes sets the times of a symlink itself; os.Root.Chtimes would follow
// it. The parent directory is opened through the root, and the last
// component is not followed.
func Lutimes(root *os.Root, name string, atime, mtime time.Time) error {
	dir, base := path.Split(name)
	if dir == "" {
		dir = "."
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	rc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	var uerr error
	if err := rc.Control(func(fd uintptr) {
		uerr = unix.UtimesNanoAt(int(fd), base, ts, unix.AT_SYMLINK_NOFOLLOW)
	}); err != nil {
		return err
	}
	if uerr != nil {
		return &os.PathError{Op: "lutimes", Path: name, Err: uerr}
	}
	return nil
}

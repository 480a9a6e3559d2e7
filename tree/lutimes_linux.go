package tree

import (
	"fmt"
	"os"
	"path"
	"syscall"
	"time"
	"unsafe"
)

const atSymlinkNofollow = 0x100

// lutimes sets the times of name itself, not of what it points to. os.Root
// has no such call, so it opens the parent through the root (which keeps it
// inside) and uses utimensat relative to that directory.
func lutimes(root *os.Root, name string, t time.Time) error {
	parent, err := root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer parent.Close()
	base, err := syscall.BytePtrFromString(path.Base(name))
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(t.UnixNano()), syscall.NsecToTimespec(t.UnixNano())}
	rc, err := parent.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, uintptr(unsafe.Pointer(base)),
			uintptr(unsafe.Pointer(&ts[0])), atSymlinkNofollow, 0, 0)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return fmt.Errorf("setting time of /%s: %w", name, errno)
	}
	return nil
}

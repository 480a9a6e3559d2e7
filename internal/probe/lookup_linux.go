//go:build linux && (amd64 || arm64)

package probe

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxPath bounds the strings read from tracee memory: the kernel rejects
// longer paths with ENAMETOOLONG, so they cannot be misses.
const maxPath = 4096

// sysSpec says where a watched system call keeps its path.
type sysSpec struct {
	name     string
	pathArg  int // argument index of the path
	dirfdArg int // argument index of the directory fd, -1 for none
}

// pathCall is a call whose first argument is a path relative to the cwd.
func pathCall(name string) sysSpec { return sysSpec{name: name, pathArg: 0, dirfdArg: -1} }

// atCall is an *at call: a directory fd, then a path relative to it.
func atCall(name string) sysSpec { return sysSpec{name: name, pathArg: 1, dirfdArg: 0} }

// sysRegs is the architecture-neutral view of the registers at a syscall
// stop.
type sysRegs struct {
	nr     uint64
	args   [6]uint64
	ret    int64 // meaningful at syscall exit only
	native bool  // false for a compat (32-bit) process: other syscall numbers
}

// enter captures the lookup of a watched call at syscall entry. It returns
// the zero lookup for unwatched calls and for paths it cannot read or
// resolve.
func (t *tracer) enter(tid int) lookup {
	regs, err := readRegs(tid)
	if err != nil || !regs.native {
		return lookup{}
	}
	spec, ok := watched[regs.nr]
	if !ok {
		return lookup{}
	}
	p, err := t.readString(tid, regs.args[spec.pathArg])
	if err != nil || p == "" {
		// "" is AT_EMPTY_PATH use or an ENOENT that names no file.
		return lookup{}
	}
	dirfd := unix.AT_FDCWD
	if spec.dirfdArg >= 0 {
		dirfd = int(int32(regs.args[spec.dirfdArg])) // an int in the C prototype
	}
	if spec.name == "openat2" && inRoot(tid, regs.args[2], regs.args[3]) {
		// The dirfd acts as "/", for absolute paths too.
		p = strings.TrimLeft(p, "/")
	}
	abs, ok := resolve(tid, dirfd, p)
	if !ok {
		return lookup{}
	}
	return lookup{syscall: spec.name, path: abs}
}

// exit records the pending lookup of st if the call failed with ENOENT.
func (t *tracer) exit(tid int, st *tracee) {
	regs, err := readRegs(tid)
	if err != nil || regs.ret != -int64(unix.ENOENT) {
		return
	}
	if st.exe == "" {
		st.exe = readExe(tid)
	}
	key := missKey{path: st.pending.path, exe: st.exe}
	if t.seen[key] {
		return
	}
	t.seen[key] = true
	t.misses = append(t.misses, Miss{Path: key.path, Syscall: st.pending.syscall, Exe: key.exe})
}

// inRoot reports whether the struct open_how at addr, of size bytes, asks
// for RESOLVE_IN_ROOT.
func inRoot(tid int, addr, size uint64) bool {
	var how unix.OpenHow
	if size < uint64(unsafe.Sizeof(how)) {
		return false
	}
	buf := (*[unsafe.Sizeof(how)]byte)(unsafe.Pointer(&how))[:]
	return readMemory(tid, addr, buf) == nil && how.Resolve&unix.RESOLVE_IN_ROOT != 0
}

// resolve makes p absolute the way the kernel would start the lookup:
// from the root, from the cwd (AT_FDCWD) or from the directory fd.
func resolve(tid, dirfd int, p string) (string, bool) {
	if strings.HasPrefix(p, "/") {
		return filepath.Clean(p), true
	}
	link := procPath(tid, "cwd")
	if dirfd != unix.AT_FDCWD {
		link = procPath(tid, "fd/"+strconv.Itoa(dirfd))
	}
	base, err := os.Readlink(link)
	if err != nil || !strings.HasPrefix(base, "/") {
		// No such fd, or one that is not a directory ("pipe:[…]"): the
		// call cannot fail with ENOENT on a path below it.
		return "", false
	}
	return filepath.Join(base, p), true
}

// readExe returns the program that tid runs, or "" if it cannot be read.
func readExe(tid int) string {
	exe, err := os.Readlink(procPath(tid, "exe"))
	if err != nil {
		return ""
	}
	return exe
}

func procPath(tid int, name string) string {
	return "/proc/" + strconv.Itoa(tid) + "/" + name
}

var errNoTerminator = errors.New("string is not NUL-terminated within PATH_MAX")

// readString reads the NUL-terminated string at addr in tid's memory, in
// pieces that never cross a page boundary: a string may end right before
// an unmapped page, and a read spanning it would fail.
func (t *tracer) readString(tid int, addr uint64) (string, error) {
	page := uint64(os.Getpagesize())
	n := 0
	for n < maxPath {
		chunk := min(int(page-addr%page), maxPath-n)
		buf := t.scratch[n : n+chunk]
		if err := readMemory(tid, addr, buf); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			return string(t.scratch[:n+i]), nil
		}
		n += chunk
		addr += uint64(chunk)
	}
	return "", errNoTerminator
}

// readMemory fills buf from tid's memory at addr. process_vm_readv does it
// in one system call; PTRACE_PEEKDATA, one word per call, is the fallback
// for kernels or sandboxes without it.
func readMemory(tid int, addr uint64, buf []byte) error {
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(tid, local, remote, 0)
	if err == nil && n == len(buf) {
		return nil
	}
	n, err = unix.PtracePeekData(tid, uintptr(addr), buf)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return unix.EFAULT
	}
	return nil
}

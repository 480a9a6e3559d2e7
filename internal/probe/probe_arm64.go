//go:build linux

package probe

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// watched maps the arm64 system calls that look paths up to where their
// path is. arm64 has only the *at forms and execve (no open, stat, lstat,
// access or readlink); its fstatat is named newfstatat, as on amd64.
var watched = atCalls()

// readRegs reads the syscall registers of a stopped tracee through
// PTRACE_GETREGSET NT_PRSTATUS (arm64 has no PTRACE_GETREGS): the number
// in x8, arguments in x0..x5, the result in x0 at exit.
//
// unix.PtraceGetRegSetArm64 would do the same but hides the length the
// kernel wrote back; a shorter one means a compat (AArch32) tracee whose
// registers have another layout.
func readRegs(tid int) (sysRegs, error) {
	var r unix.PtraceRegsArm64
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(&r))}
	iov.SetLen(int(unsafe.Sizeof(r)))
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET,
		uintptr(tid), uintptr(unix.NT_PRSTATUS), uintptr(unsafe.Pointer(&iov)), 0, 0)
	if errno != 0 {
		return sysRegs{}, errno
	}
	return sysRegs{
		nr:     r.Regs[8],
		args:   [6]uint64{r.Regs[0], r.Regs[1], r.Regs[2], r.Regs[3], r.Regs[4], r.Regs[5]},
		ret:    int64(r.Regs[0]),
		native: iov.Len == uint64(unsafe.Sizeof(r)),
	}, nil
}

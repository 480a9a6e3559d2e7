//go:build linux

package probe

import "golang.org/x/sys/unix"

// userCS64 is the code segment selector of 64-bit user mode; 32-bit
// processes run with __USER32_CS (0x23) and use the i386 syscall table.
const userCS64 = 0x33

// watched maps the amd64 system calls that look paths up to where their
// path is: the *at forms and execve, and the older path-only calls.
var watched = func() map[uint64]sysSpec {
	m := atCalls()
	for nr, spec := range map[uint64]sysSpec{
		unix.SYS_OPEN:     pathCall("open"),
		unix.SYS_CREAT:    pathCall("creat"),
		unix.SYS_STAT:     pathCall("stat"),
		unix.SYS_LSTAT:    pathCall("lstat"),
		unix.SYS_ACCESS:   pathCall("access"),
		unix.SYS_READLINK: pathCall("readlink"),
	} {
		m[nr] = spec
	}
	return m
}()

// readRegs reads the syscall registers of a stopped tracee: the number in
// orig_rax (rax holds -ENOSYS at entry and the result at exit), arguments
// in rdi, rsi, rdx, r10, r8, r9.
func readRegs(tid int) (sysRegs, error) {
	var r unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &r); err != nil {
		return sysRegs{}, err
	}
	return sysRegs{
		nr:     r.Orig_rax,
		args:   [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9},
		ret:    int64(r.Rax),
		native: r.Cs == userCS64,
	}, nil
}

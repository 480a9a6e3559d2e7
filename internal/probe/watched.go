//go:build linux && (amd64 || arm64)

package probe

import "golang.org/x/sys/unix"

// atCalls maps the system calls amd64 and arm64 share that look a path up:
// execve and the *at forms, with where their path is.
func atCalls() map[uint64]sysSpec {
	return map[uint64]sysSpec{
		unix.SYS_EXECVE:     pathCall("execve"),
		unix.SYS_OPENAT:     atCall("openat"),
		unix.SYS_OPENAT2:    atCall("openat2"),
		unix.SYS_NEWFSTATAT: atCall("newfstatat"),
		unix.SYS_STATX:      atCall("statx"),
		unix.SYS_FACCESSAT:  atCall("faccessat"),
		unix.SYS_FACCESSAT2: atCall("faccessat2"),
		unix.SYS_READLINKAT: atCall("readlinkat"),
		unix.SYS_EXECVEAT:   atCall("execveat"),
	}
}

// Package probe runs one command under ptrace and records every file-system
// lookup that failed with ENOENT, so smith can tell a user which files their
// microcontainer is missing.
//
// Run starts the command stopped under PTRACE_TRACEME, follows every child
// process and thread it creates (fork, vfork, clone, exec) and steps each of
// them from system call to system call. For the system calls that look a
// path up (open, openat, openat2, creat, stat, lstat, newfstatat, statx,
// access, faccessat, faccessat2, execve, execveat, readlink, readlinkat) it
// reads the path and resolves a relative one against the working directory
// or the directory file descriptor when the call enters, and records the
// path when the call returns -ENOENT.
//
// Run can be called from several goroutines at once and alongside os/exec:
// each call traces on its own locked OS thread and never reaps a child
// that it did not start.
//
// Tracing is supported on linux/amd64 and linux/arm64 only; elsewhere Run
// returns an error that wraps errors.ErrUnsupported.
//
// Limitations:
//   - The tracer needs permission to ptrace its own children. Starting
//     fails with EPERM under a seccomp profile that forbids ptrace (older
//     Docker default profiles on kernels before 4.8), when Yama's
//     kernel.yama.ptrace_scope is 2 and the caller lacks CAP_SYS_PTRACE,
//     and always when it is 3. Scopes 0 and 1 allow it, because the
//     tracee is Run's own child.
//   - A system call that a seccomp filter answers with ENOENT is reported
//     like a real miss, because the tracer only sees the return value.
//   - Because the tracees are attached with PTRACE_TRACEME rather than
//     PTRACE_SEIZE, a job-control stop (SIGSTOP, SIGTSTP, ...) cannot be
//     kept: the signal is delivered, but the stopped tracee is resumed.
//   - 32-bit (compat) processes are followed but their system calls are not
//     decoded, since their system call numbers differ.
//   - When the top process exits, Run kills whatever traced processes are
//     still running (for example daemons it left behind), so their later
//     lookups are not seen.
//   - Paths are reported as the tracer sees them: a process that chroots or
//     enters another mount namespace has its absolute paths reported as it
//     wrote them, relative paths as /proc/<pid>/cwd shows them to the tracer.
package probe

//go:build linux && (amd64 || arm64)

package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptraceOptions follow every child and thread, tell syscall stops apart
// from real SIGTRAPs, report execs as events, and make the kernel kill the
// tracees if the tracer thread dies without cleaning up.
const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD |
	unix.PTRACE_O_TRACEFORK |
	unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEEXEC |
	unix.PTRACE_O_EXITKILL

// started is what the tracer goroutine reports once the command runs.
type started struct {
	pid   int
	pidfd int // -1 when the kernel has no pidfds
	err   error
}

// finished is what the tracer goroutine reports once every tracee is gone.
type finished struct {
	res *Result
	err error
}

// run implements Run: it prepares the program and its streams, starts the
// tracer thread, and kills the command when ctx is done.
func run(ctx context.Context, c Command) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	path, err := program(c, env)
	if err != nil {
		return nil, err
	}
	if err := checkDir(c.Dir); err != nil {
		return nil, err
	}
	streams, err := newStdio(c)
	if err != nil {
		return nil, err
	}

	startc := make(chan started, 1)
	donec := make(chan finished, 1)
	attr := &syscall.ProcAttr{Dir: c.Dir, Env: env, Files: streams.fds()}
	go traceThread(path, c.Args, attr, startc, donec)

	st := <-startc
	streams.closeChildEnds()
	if st.err != nil {
		streams.abort()
		return nil, fmt.Errorf("probe: cannot start %s: %w", c.Args[0], st.err)
	}
	streams.start()

	var done finished
	killed := false
	select {
	case done = <-donec:
	case <-ctx.Done():
		// Killing the top process is enough: once it is gone the tracer
		// kills every other tracee, which covers its process group and
		// anything that left it.
		killed = true
		killTop(st)
		done = <-donec
	}
	if st.pidfd >= 0 {
		unix.Close(st.pidfd)
	}
	copyErr := streams.finish()
	switch {
	case killed:
		return nil, ctx.Err()
	case done.err != nil:
		return nil, done.err
	}
	return done.res, copyErr
}

// killTop sends SIGKILL to the top process. Through the pidfd this cannot
// hit a recycled pid. Without one (kernels before 5.3) there is a short
// window, between the tracer reaping the top process and reporting it,
// in which the pid could be reused; the kernel would have to wrap around
// its pid space within it.
func killTop(st started) {
	if st.pidfd >= 0 {
		_ = unix.PidfdSendSignal(st.pidfd, unix.SIGKILL, nil, 0)
		return
	}
	_ = unix.Kill(st.pid, unix.SIGKILL)
}

// traceThread starts the command and traces it until no tracee is left.
// ptrace binds tracees to one OS thread, so this goroutine locks its
// thread and never unlocks it: when the goroutine ends, the runtime
// destroys the thread, and PTRACE_O_EXITKILL kills any tracee that an
// error left behind.
func traceThread(path string, args []string, attr *syscall.ProcAttr, startc chan<- started, donec chan<- finished) {
	runtime.LockOSThread()

	pidfd := -1
	attr.Sys = &syscall.SysProcAttr{Ptrace: true, Setpgid: true, PidFD: &pidfd}
	pid, err := syscall.ForkExec(path, args, attr)
	if err != nil {
		startc <- started{err: err}
		return
	}
	startc <- started{pid: pid, pidfd: pidfd}

	res, err := newTracer(pid).run()
	donec <- finished{res: res, err: err}
}

// tracer follows the process tree of one command. It is used only from the
// tracing thread.
type tracer struct {
	top      int
	self     int // tid of the tracing thread
	tracees  map[int]*tracee
	exitCode int
	topDone  bool
	draining bool // the top process is gone: kill whatever is left

	pollDelay time.Duration // current backoff of next's polling

	misses  []Miss
	seen    map[missKey]bool
	scratch []byte // buffer for reading strings from tracee memory
}

// tracee is what the tracer knows about one traced thread.
type tracee struct {
	inSyscall bool   // between syscall-enter-stop and syscall-exit-stop
	awaitStop bool   // announced by its parent's event, initial SIGSTOP not seen yet
	pending   lookup // watched call in progress, captured at entry
	exe       string // cached /proc/<tid>/exe, "" until needed
}

// lookup is a path lookup captured at syscall entry; the zero value means
// none.
type lookup struct {
	syscall string
	path    string
}

// missKey is what makes a Miss unique.
type missKey struct{ path, exe string }

// newTracer returns a tracer for the stopped top process top. It must be
// called on the tracing thread.
func newTracer(top int) *tracer {
	return &tracer{
		top:     top,
		self:    unix.Gettid(),
		tracees: map[int]*tracee{},
		seen:    map[missKey]bool{},
		scratch: make([]byte, maxPath),
	}
}

// run traces until the top process has exited and every tracee we know
// of has been reaped. (Waiting for ECHILD instead would also wait for
// children that other goroutines started; see next.)
func (t *tracer) run() (*Result, error) {
	if err := t.attach(); err != nil {
		return nil, err
	}
	for !t.topDone || len(t.tracees) > 0 {
		tid, ws, err := t.next()
		if errors.Is(err, unix.ECHILD) {
			break // nothing left to wait for, whatever the map says
		}
		if err != nil {
			return nil, fmt.Errorf("probe: waiting for traced processes: %w", err)
		}
		if tid > 0 {
			t.handle(tid, ws)
		}
	}
	if !t.topDone {
		return nil, errors.New("probe: traced process vanished without an exit status")
	}
	return &Result{ExitCode: t.exitCode, Misses: t.misses}, nil
}

// attach takes the top process from its post-exec SIGTRAP stop (which
// PTRACE_TRACEME causes) and sets the options that make it, and all its
// descendants, report to us.
func (t *tracer) attach() error {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(t.top, &ws, unix.WALL, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return fmt.Errorf("probe: waiting for the started process: %w", err)
		}
	}
	if !ws.Stopped() {
		// Killed before its first instruction; nothing to trace.
		t.exited(t.top, ws)
		return nil
	}
	t.tracees[t.top] = &tracee{}
	if err := unix.PtraceSetOptions(t.top, ptraceOptions); err != nil {
		t.killAndReapTop()
		return fmt.Errorf("probe: setting ptrace options: %w", err)
	}
	t.resume(t.top, 0)
	return nil
}

// killAndReapTop disposes of the top process after a failed attach, so it
// neither runs untraced nor stays a zombie.
func (t *tracer) killAndReapTop() {
	_ = unix.Kill(t.top, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(t.top, &ws, unix.WALL, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// handle dispatches one wait status.
func (t *tracer) handle(tid int, ws unix.WaitStatus) {
	switch {
	case ws.Exited() || ws.Signaled():
		t.exited(tid, ws)
	case ws.Stopped():
		t.stopped(tid, ws)
	}
}

// exited forgets a tracee; the top process's exit ends the run.
func (t *tracer) exited(tid int, ws unix.WaitStatus) {
	delete(t.tracees, tid)
	if tid != t.top {
		return
	}
	t.topDone = true
	if ws.Signaled() {
		t.exitCode = 128 + int(ws.Signal())
	} else {
		t.exitCode = ws.ExitStatus()
	}
	t.startDraining()
}

// startDraining kills every tracee that outlived the top process. Their
// tids cannot have been recycled: each is alive or an unreaped zombie.
func (t *tracer) startDraining() {
	t.draining = true
	for tid := range t.tracees {
		_ = unix.Kill(tid, unix.SIGKILL)
	}
}

// stopped handles a ptrace stop of tid: the initial SIGSTOP of a new
// tracee, a syscall stop, an event stop, or a signal.
func (t *tracer) stopped(tid int, ws unix.WaitStatus) {
	if t.draining {
		// Also catches children born after startDraining.
		_ = unix.Kill(tid, unix.SIGKILL)
		_ = unix.PtraceCont(tid, 0)
		return
	}
	sig := ws.StopSignal()
	st, known := t.tracees[tid]
	switch {
	case !known:
		// A new child or thread whose initial SIGSTOP arrived before
		// its parent's fork/clone event.
		st = &tracee{}
		t.tracees[tid] = st
		if sig == unix.SIGSTOP {
			t.resume(tid, 0)
			return
		}
	case st.awaitStop && sig == unix.SIGSTOP:
		// The initial SIGSTOP of a child announced by its parent's event.
		st.awaitStop = false
		t.resume(tid, 0)
		return
	}
	switch {
	case sig == unix.SIGTRAP|0x80: // PTRACE_O_TRACESYSGOOD
		t.syscallStop(tid, st)
	case sig == unix.SIGTRAP && ws.TrapCause() > 0:
		t.eventStop(tid, st, ws.TrapCause())
	default:
		t.signalStop(tid, sig)
	}
}

// syscallStop alternates between entry and exit: capturing the lookup on
// entry, where arguments and the process's cwd and fds are as the call
// sees them, and checking the result on exit.
func (t *tracer) syscallStop(tid int, st *tracee) {
	if !st.inSyscall {
		st.inSyscall = true
		st.pending = t.enter(tid)
	} else {
		st.inSyscall = false
		if st.pending != (lookup{}) {
			t.exit(tid, st)
			st.pending = lookup{}
		}
	}
	t.resume(tid, 0)
}

// eventStop handles the PTRACE_EVENT stops: a new child or thread, or a
// successful exec. The SIGTRAP of an event stop is never injected.
func (t *tracer) eventStop(tid int, st *tracee, event int) {
	switch event {
	case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
		if msg, err := unix.PtraceGetEventMsg(tid); err == nil {
			child := int(msg)
			if _, ok := t.tracees[child]; !ok {
				// Until it execs, the child runs the parent's program.
				t.tracees[child] = &tracee{awaitStop: true, exe: st.exe}
			}
		}
	case unix.PTRACE_EVENT_EXEC:
		st = t.execed(tid, st)
	}
	t.resume(tid, 0)
}

// execed updates the state after a successful exec. When a non-leader
// thread execs, the kernel gives it the leader's tid and reports the old
// tid in the event message; the leader and the other threads vanish.
func (t *tracer) execed(tid int, st *tracee) *tracee {
	if msg, err := unix.PtraceGetEventMsg(tid); err == nil && int(msg) != tid {
		if old, ok := t.tracees[int(msg)]; ok {
			delete(t.tracees, int(msg))
			t.tracees[tid] = old
			st = old
		}
	}
	st.exe = ""
	// The exec succeeded, so its exit cannot be a miss; and the registers
	// at that exit belong to the new program.
	st.pending = lookup{}
	return st
}

// signalStop passes a signal on to the tracee, except for a group-stop,
// which reports a stop signal that was already delivered.
func (t *tracer) signalStop(tid int, sig unix.Signal) {
	if isStopSignal(sig) && isGroupStop(tid) {
		t.resume(tid, 0)
		return
	}
	t.resume(tid, int(sig))
}

// isStopSignal reports whether sig's default action is to stop.
func isStopSignal(sig unix.Signal) bool {
	switch sig {
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return true
	}
	return false
}

// isGroupStop tells a group-stop from a signal-delivery-stop: only the
// latter has a siginfo (PTRACE_GETSIGINFO fails with EINVAL otherwise).
func isGroupStop(tid int) bool {
	var info unix.Siginfo
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO,
		uintptr(tid), 0, uintptr(unsafe.Pointer(&info)), 0, 0)
	return errno == unix.EINVAL
}

// resume restarts a stopped tracee until its next syscall stop, injecting
// sig when non-zero. A tracee that cannot be resumed for another reason
// than being dead is killed, so it does not hang the run.
func (t *tracer) resume(tid, sig int) {
	err := unix.PtraceSyscall(tid, sig)
	if err != nil && err != unix.ESRCH {
		_ = unix.Kill(tid, unix.SIGKILL)
	}
}

//go:build linux && (amd64 || arm64)

package probe

import (
	"bytes"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waitFlags: __WALL reports threads as well as processes; __WNOTHREAD
// limits the wait to the children and tracees of the tracing thread.
const waitFlags = unix.WALL | unix.WNOTHREAD

// maxPollDelay bounds the sleep between polls while a foreign zombie is in
// the way.
const maxPollDelay = 10 * time.Millisecond

// sigchldInfo is the start of a siginfo_t as waitid fills it: si_pid
// follows signo, errno, code and padding on every 64-bit Linux.
type sigchldInfo struct {
	signo, errno, code, _ int32
	pid                   int32
}

// next collects the next stop or exit of a tracee. It returns tid 0 when
// it had to poll and found nothing ready.
//
// The tracing thread can have natural children that are not ours: an OS
// thread that some goroutine used to start a subprocess (os/exec) before
// Run locked it, or children the kernel reparents to it when another
// thread of this process exits. A plain wait4(-1) would reap such a child
// and steal its exit status from its owner. So next first peeks with
// WNOWAIT, reaps only tracees, and while a foreign zombie is first in line
// (the kernel reports it again on every peek until its owner reaps it)
// polls the tracees it knows by tid.
func (t *tracer) next() (int, unix.WaitStatus, error) {
	pid, err := peek()
	if err != nil {
		return 0, 0, err
	}
	if t.isTracee(pid) {
		t.pollDelay = 0
		return reap(pid, 0)
	}
	for tid := range t.tracees {
		got, ws, err := reap(tid, unix.WNOHANG)
		if err == nil && got > 0 {
			t.pollDelay = 0
			return got, ws, nil
		}
	}
	t.pollDelay = min(max(2*t.pollDelay, 100*time.Microsecond), maxPollDelay)
	time.Sleep(t.pollDelay)
	return 0, 0, nil
}

// peek blocks until a child or tracee of this thread has a state change
// (ptrace stops are reported without WSTOPPED) and returns its pid,
// leaving it to be reaped.
func peek() (int, error) {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOWAIT|waitFlags, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return int((*sigchldInfo)(unsafe.Pointer(&info)).pid), nil
	}
}

// reap collects the state change of tid.
func reap(tid, flags int) (int, unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(tid, &ws, waitFlags|flags, nil)
		if err != unix.EINTR {
			return got, ws, err
		}
	}
}

// isTracee reports whether pid, which has a state change pending for this
// thread, is one of our tracees rather than a foreign child: either one we
// know, or a new one (reporting its initial stop ahead of its parent's
// event, or killed before that event) that /proc says we trace. The pid
// cannot be recycled meanwhile: it is unreaped.
func (t *tracer) isTracee(pid int) bool {
	if _, ok := t.tracees[pid]; ok {
		return true
	}
	status, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return false
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("TracerPid:")); ok {
			tracer, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			return err == nil && tracer == t.self
		}
	}
	return false
}

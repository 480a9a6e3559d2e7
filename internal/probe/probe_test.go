//go:build linux && (amd64 || arm64)

package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var testEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
}

// probeRun runs c under the probe and fails the test on error. It skips the
// test when this environment forbids ptrace.
func probeRun(t *testing.T, c Command) *Result {
	t.Helper()
	if c.Env == nil {
		c.Env = testEnv
	}
	res, err := Run(context.Background(), c)
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("ptrace is not permitted here: %v", err)
	}
	if err != nil {
		t.Fatalf("Run(%q): %v", c.Args, err)
	}
	return res
}

// hostExe returns the real path of a host program, as /proc/<pid>/exe
// shows it (on Debian /bin is a symlink to /usr/bin).
func hostExe(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

// sameFile compares executables regardless of symlinks on either side.
func sameFile(a, b string) bool {
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// findMiss returns the miss for path asked by exe (any exe if "").
func findMiss(res *Result, path, exe string) (Miss, bool) {
	for _, m := range res.Misses {
		if m.Path == path && (exe == "" || sameFile(m.Exe, exe)) {
			return m, true
		}
	}
	return Miss{}, false
}

func requireMiss(t *testing.T, res *Result, path, exe, syscall string) {
	t.Helper()
	m, ok := findMiss(res, path, exe)
	if !ok {
		t.Fatalf("no miss for %s by %s; misses:\n%s", path, exe, dump(res.Misses))
	}
	if syscall != "" && m.Syscall != syscall {
		t.Errorf("miss %s: syscall %q, want %q", path, m.Syscall, syscall)
	}
}

func dump(ms []Miss) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString("  " + m.Syscall + " " + m.Path + " by " + m.Exe + "\n")
	}
	return b.String()
}

func TestCatMissingFile(t *testing.T) {
	cat := hostExe(t, "cat")
	res := probeRun(t, Command{Args: []string{"cat", "/nonexistent/file"}})
	if res.ExitCode != 1 {
		t.Errorf("exit code %d, want 1", res.ExitCode)
	}
	requireMiss(t, res, "/nonexistent/file", cat, "openat")
}

func TestRelativePathUsesDir(t *testing.T) {
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := probeRun(t, Command{Args: []string{"cat", "missing.txt"}, Dir: dir})
	requireMiss(t, res, filepath.Join(real, "missing.txt"), hostExe(t, "cat"), "openat")
}

func TestRelativePathUsesDirfd(t *testing.T) {
	// os.Root opens the directory once and looks names up relative to
	// its fd with openat(dirfd, name).
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := helperProgram(t)
	res := probeRun(t, Command{Args: []string{bin, "root", dir}})
	if res.ExitCode != 0 {
		t.Errorf("exit code %d, want 0", res.ExitCode)
	}
	requireMiss(t, res, filepath.Join(real, "sub/missing"), bin, "openat")
}

func TestOpenat2InRoot(t *testing.T) {
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := helperProgram(t)
	res := probeRun(t, Command{Args: []string{bin, "inroot", dir}})
	switch res.ExitCode {
	case 3:
		t.Skip("openat2 is not available")
	case 0:
	default:
		t.Fatalf("exit code %d, want 0", res.ExitCode)
	}
	requireMiss(t, res, filepath.Join(real, "etc/missing"), bin, "openat2")
}

func TestChildProcesses(t *testing.T) {
	res := probeRun(t, Command{Args: []string{"sh", "-c", "ls /nope1; cat /nope2; exit 3"}})
	if res.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", res.ExitCode)
	}
	requireMiss(t, res, "/nope1", hostExe(t, "ls"), "")
	requireMiss(t, res, "/nope2", hostExe(t, "cat"), "openat")
}

func TestMissingProgram(t *testing.T) {
	res := probeRun(t, Command{Args: []string{"sh", "-c", "/no/such/prog"}})
	if res.ExitCode != 127 {
		t.Errorf("exit code %d, want 127", res.ExitCode)
	}
	requireMiss(t, res, "/no/such/prog", hostExe(t, "sh"), "execve")
}

func TestCannotStart(t *testing.T) {
	for _, name := range []string{"/no/such/binary", "no-such-program-xyz"} {
		_, err := Run(context.Background(), Command{Args: []string{name}, Env: testEnv})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Run(%q) = %v, want an error naming the program", name, err)
		}
	}
	if _, err := Run(context.Background(), Command{}); err == nil {
		t.Error("Run with no Args succeeded")
	}
	_, err := Run(context.Background(), Command{Args: []string{"true"}, Env: testEnv, Dir: "/no/such/dir"})
	if err == nil || !strings.Contains(err.Error(), "/no/such/dir") {
		t.Errorf("Run in a missing Dir = %v, want an error naming it", err)
	}
}

// helperSource is a Go program for the cases no host tool covers:
// "threads" stats missing files from many threads at once and exits 7;
// "exec" execs `cat /after/exec` from a thread other than the main one;
// "root DIR" looks a missing name up relative to a directory fd;
// "inroot DIR" opens /etc/missing with openat2 RESOLVE_IN_ROOT in DIR
// (exit 3: openat2 is not available).
const helperSource = `package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	switch os.Args[1] {
	case "threads":
		threads()
	case "exec":
		execFromThread()
	case "inroot":
		inRoot(os.Args[2])
	case "root":
		os.Mkdir(os.Args[2]+"/sub", 0o755)
		root, err := os.OpenRoot(os.Args[2] + "/sub")
		if err != nil {
			panic(err)
		}
		if _, err := root.Open("missing"); !os.IsNotExist(err) {
			panic(err)
		}
	}
}

func inRoot(dir string) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		panic(err)
	}
	how := [3]uint64{syscall.O_RDONLY, 0, 0x10} // flags, mode, RESOLVE_IN_ROOT
	path := []byte("/etc/missing\x00")
	_, _, errno := syscall.Syscall6(437, uintptr(fd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0) // SYS_OPENAT2 on amd64 and arm64
	switch errno {
	case syscall.ENOENT:
	case syscall.ENOSYS:
		os.Exit(3)
	default:
		panic(errno)
	}
}

func execFromThread() {
	done := make(chan error)
	go func() {
		// The main goroutine holds the main thread, so this one runs,
		// and execs, on another thread.
		runtime.LockOSThread()
		done <- syscall.Exec("/bin/cat", []string{"cat", "/after/exec"}, nil)
	}()
	runtime.LockOSThread()
	panic(<-done)
}

func threads() {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Locked, sleeping goroutines force extra OS threads, so
			// the lookups come from many tids at once.
			runtime.LockOSThread()
			time.Sleep(20 * time.Millisecond)
			for range 3 {
				os.Stat(fmt.Sprintf("/missing/g%d", i))
			}
		}()
	}
	wg.Wait()
	os.Exit(7)
}
`

var helper struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// helperProgram builds helperSource once per test binary run.
func helperProgram(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	helper.once.Do(func() {
		helper.dir, helper.err = os.MkdirTemp("", "probe-helper-")
		if helper.err != nil {
			return
		}
		src := filepath.Join(helper.dir, "main.go")
		helper.bin = filepath.Join(helper.dir, "helper")
		if helper.err = os.WriteFile(src, []byte(helperSource), 0o644); helper.err != nil {
			return
		}
		build := exec.Command(goTool, "build", "-o", helper.bin, src)
		build.Dir = helper.dir
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := build.CombinedOutput(); err != nil {
			helper.err = fmt.Errorf("building the helper program: %v\n%s", err, out)
		}
	})
	if helper.err != nil {
		t.Fatal(helper.err)
	}
	return helper.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helper.dir != "" {
		os.RemoveAll(helper.dir)
	}
	os.Exit(code)
}

func TestMultiThreaded(t *testing.T) {
	bin := helperProgram(t)
	res := probeRun(t, Command{Args: []string{bin, "threads"}})
	if res.ExitCode != 7 {
		t.Errorf("exit code %d, want 7", res.ExitCode)
	}
	for i := range 16 {
		requireMiss(t, res, fmt.Sprintf("/missing/g%d", i), bin, "")
	}
	assertUnique(t, res.Misses)
}

func TestExecFromThread(t *testing.T) {
	// The kernel moves the execing thread to the leader's tid.
	bin := helperProgram(t)
	res := probeRun(t, Command{Args: []string{bin, "exec"}})
	if res.ExitCode != 1 {
		t.Errorf("exit code %d, want 1 (from cat)", res.ExitCode)
	}
	requireMiss(t, res, "/after/exec", hostExe(t, "cat"), "openat")
}

func TestVfork(t *testing.T) {
	python := hostExe(t, "python3")
	// glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK).
	res := probeRun(t, Command{Args: []string{python, "-c",
		`import os; os.waitpid(os.posix_spawn("/bin/cat", ["cat", "/vforked"], {}), 0)`}})
	if res.ExitCode != 0 {
		t.Errorf("exit code %d, want 0", res.ExitCode)
	}
	requireMiss(t, res, "/vforked", hostExe(t, "cat"), "openat")
}

func TestStopSignalDoesNotHang(t *testing.T) {
	// Without PTRACE_SEIZE a group-stop cannot be kept: the tracee goes
	// on, which is better for a probe than hanging.
	var out bytes.Buffer
	res := probeRun(t, Command{Args: []string{"sh", "-c", "kill -STOP $$; echo resumed; exit 2"}, Stdout: &out})
	if res.ExitCode != 2 || out.String() != "resumed\n" {
		t.Errorf("exit code %d, output %q; want 2, %q", res.ExitCode, out.String(), "resumed\n")
	}
}

func TestConcurrentRuns(t *testing.T) {
	// Each Run waits only for its own tracees, and none of them reaps a
	// child that os/exec started meanwhile.
	probeRun(t, Command{Args: []string{"true"}}) // skips if ptrace is forbidden
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			path := fmt.Sprintf("/concurrent/%d", i)
			res, err := Run(context.Background(), Command{
				Args: []string{"sh", "-c", fmt.Sprintf("cat %s; exit %d", path, 10+i)},
				Env:  testEnv,
			})
			if err != nil {
				t.Errorf("Run %d: %v", i, err)
				return
			}
			if res.ExitCode != 10+i {
				t.Errorf("Run %d: exit code %d, want %d", i, res.ExitCode, 10+i)
			}
			for _, m := range res.Misses {
				if strings.HasPrefix(m.Path, "/concurrent/") && m.Path != path {
					t.Errorf("Run %d recorded another run's miss %v", i, m)
				}
			}
			if _, ok := findMiss(res, path, ""); !ok {
				t.Errorf("Run %d: no miss for %s", i, path)
			}
		})
		wg.Go(func() {
			if err := exec.Command("sh", "-c", "exit 0").Run(); err != nil {
				t.Errorf("os/exec alongside Run: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestDoesNotReapOtherChildren(t *testing.T) {
	// With one P, the tracer goroutine tends to run on the very thread
	// that just forked cmd, so cmd's zombie is among the children its
	// waits can see; Run must leave it to cmd.Wait.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range 5 {
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		res := probeRun(t, Command{Args: []string{"sleep", "0.05"}})
		if res.ExitCode != 0 {
			t.Errorf("exit code %d, want 0", res.ExitCode)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("Wait for a child started outside Run: %v", err)
		}
	}
}

func TestStdoutPassedThrough(t *testing.T) {
	var out, errb bytes.Buffer
	res := probeRun(t, Command{Args: []string{"sh", "-c", "echo hi; echo oops >&2"}, Stdout: &out, Stderr: &errb})
	if res.ExitCode != 0 {
		t.Errorf("exit code %d, want 0", res.ExitCode)
	}
	if out.String() != "hi\n" {
		t.Errorf("stdout %q, want %q", out.String(), "hi\n")
	}
	if errb.String() != "oops\n" {
		t.Errorf("stderr %q, want %q", errb.String(), "oops\n")
	}
}

func TestStdinAndSharedOutput(t *testing.T) {
	var out bytes.Buffer
	probeRun(t, Command{
		Args:   []string{"sh", "-c", "cat; echo err >&2"},
		Stdin:  strings.NewReader("in\n"),
		Stdout: &out,
		Stderr: &out,
	})
	if out.String() != "in\nerr\n" {
		t.Errorf("output %q, want %q", out.String(), "in\nerr\n")
	}
}

func TestKilledBySignal(t *testing.T) {
	res := probeRun(t, Command{Args: []string{"sh", "-c", "kill -TERM $$"}})
	if want := 128 + int(syscall.SIGTERM); res.ExitCode != want {
		t.Errorf("exit code %d, want %d", res.ExitCode, want)
	}
}

func TestSignalDelivered(t *testing.T) {
	// The trap handler only runs if the tracer re-injects SIGUSR1.
	var out bytes.Buffer
	res := probeRun(t, Command{Args: []string{"sh", "-c", "trap 'echo got; exit 5' USR1; kill -USR1 $$; sleep 5"}, Stdout: &out})
	if res.ExitCode != 5 || out.String() != "got\n" {
		t.Errorf("exit code %d, output %q; want 5, %q", res.ExitCode, out.String(), "got\n")
	}
}

func TestContextTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The background sleep outlives sh's own sleep in another process
	// group; it must be killed too, or Run would wait for its stdout.
	var out bytes.Buffer
	res, err := Run(ctx, Command{Args: []string{"sh", "-c", "setsid sleep 100 & sleep 100"}, Env: testEnv, Stdout: &out})
	if errors.Is(err, syscall.EPERM) {
		t.Skip(err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || res != nil {
		t.Fatalf("Run = %v, %v; want nil, context.DeadlineExceeded", res, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v after the deadline", d)
	}
}

func TestCanceledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Command{Args: []string{"true"}, Env: testEnv}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestLeftoverChildrenAreKilled(t *testing.T) {
	start := time.Now()
	var out bytes.Buffer
	res := probeRun(t, Command{Args: []string{"sh", "-c", "sleep 100 & exit 4"}, Stdout: &out})
	if res.ExitCode != 4 {
		t.Errorf("exit code %d, want 4", res.ExitCode)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v; the background sleep was not killed", d)
	}
}

func TestDeterministicAndUnique(t *testing.T) {
	// Paths that exist nowhere: under a fresh folder.
	dir := t.TempDir()
	dup, a := dir+"/dup", dir+"/a"
	c := Command{Args: []string{"sh", "-c", "cat " + dup + "; cat " + dup + "; cat " + a + "; ls " + a + "; cat " + dup}}
	first := probeRun(t, c)
	assertUnique(t, first.Misses)

	var order []string
	cat, ls := hostExe(t, "cat"), hostExe(t, "ls")
	for _, m := range first.Misses {
		switch {
		case m.Path == dup || m.Path == a:
			order = append(order, m.Path+" "+filepath.Base(m.Exe))
		}
	}
	want := []string{dup + " " + filepath.Base(cat), a + " " + filepath.Base(cat), a + " " + filepath.Base(ls)}
	if !slices.Equal(order, want) {
		t.Errorf("misses of /dup and /a: %q, want %q", order, want)
	}

	second := probeRun(t, c)
	if !slices.Equal(first.Misses, second.Misses) {
		t.Errorf("two runs differ:\n%s---\n%s", dump(first.Misses), dump(second.Misses))
	}
}

func assertUnique(t *testing.T, ms []Miss) {
	t.Helper()
	seen := map[[2]string]bool{}
	for _, m := range ms {
		k := [2]string{m.Path, m.Exe}
		if seen[k] {
			t.Errorf("duplicate miss %v", m)
		}
		seen[k] = true
	}
}

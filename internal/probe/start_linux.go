//go:build linux && (amd64 || arm64)

package probe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// program returns the path to execute for c: Args[0] itself when it has a
// slash, else the first match in the PATH of env.
func program(c Command, env []string) (string, error) {
	if len(c.Args) == 0 || c.Args[0] == "" {
		return "", errors.New("probe: Command.Args is empty")
	}
	name := c.Args[0]
	if strings.Contains(name, "/") {
		// Relative names are left to execve, which runs after the chdir
		// to Dir, so they resolve against Dir as the user expects.
		return name, nil
	}
	for _, dir := range filepath.SplitList(envValue(env, "PATH")) {
		// A relative entry would depend on Dir and on whoever controls
		// it; os/exec refuses those too (exec.ErrDot).
		if !filepath.IsAbs(dir) {
			continue
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("probe: cannot start %s: executable file not found in PATH", name)
}

// envValue returns the value of key in env; the last definition wins, as
// it does when os/exec deduplicates an environment.
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// isExecutable reports whether p is a regular file with an execute bit.
func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// checkDir makes a bad working directory fail with its name: execve's
// chdir failure would only say "no such file or directory".
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("probe: working directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("probe: working directory %s is not a directory", dir)
	}
	return nil
}

// stdio connects the child's standard streams to the Command's readers and
// writers: *os.File values are handed over directly, nil means /dev/null,
// and anything else goes through a pipe and a copying goroutine.
type stdio struct {
	child      [3]*os.File // what the child gets as fds 0, 1 and 2
	childOwned []*os.File  // the child ends that we opened and must close
	stdinSrc   io.Reader   // copied into stdinPipe once the child runs
	stdinPipe  *os.File
	outputs    []output

	copying sync.WaitGroup
	mu      sync.Mutex
	err     error // first error copying an output
}

// output is one pipe whose read end is copied to a writer.
type output struct {
	name string
	r    *os.File
	w    io.Writer
}

// newStdio opens the files and pipes for c.
func newStdio(c Command) (*stdio, error) {
	s := &stdio{}
	err := s.setInput(c.Stdin)
	if err == nil {
		err = s.setOutput(1, "stdout", c.Stdout)
	}
	if err == nil {
		if c.Stderr != nil && sameWriter(c.Stderr, c.Stdout) {
			s.child[2] = s.child[1]
		} else {
			err = s.setOutput(2, "stderr", c.Stderr)
		}
	}
	if err != nil {
		s.closeChildEnds()
		s.abort()
		return nil, err
	}
	return s, nil
}

// setInput arranges the child's fd 0.
func (s *stdio) setInput(r io.Reader) error {
	switch f := r.(type) {
	case nil:
		return s.devNull(0, os.O_RDONLY)
	case *os.File:
		s.child[0] = f
		return nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("probe: creating stdin pipe: %w", err)
	}
	s.child[0] = pr
	s.childOwned = append(s.childOwned, pr)
	s.stdinSrc, s.stdinPipe = r, pw
	return nil
}

// setOutput arranges the child's fd 1 or 2; name is for error messages.
func (s *stdio) setOutput(fd int, name string, w io.Writer) error {
	switch f := w.(type) {
	case nil:
		return s.devNull(fd, os.O_WRONLY)
	case *os.File:
		s.child[fd] = f
		return nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("probe: creating %s pipe: %w", name, err)
	}
	s.child[fd] = pw
	s.childOwned = append(s.childOwned, pw)
	s.outputs = append(s.outputs, output{name: name, r: pr, w: w})
	return nil
}

// devNull gives the child /dev/null as fd, opened with flag.
func (s *stdio) devNull(fd, flag int) error {
	f, err := os.OpenFile(os.DevNull, flag, 0)
	if err != nil {
		return fmt.Errorf("probe: opening %s: %w", os.DevNull, err)
	}
	s.child[fd] = f
	s.childOwned = append(s.childOwned, f)
	return nil
}

// fds returns the descriptors to hand to the child as fds 0, 1 and 2. The
// files stay referenced by s, so they are not finalized while in use.
func (s *stdio) fds() []uintptr {
	return []uintptr{s.child[0].Fd(), s.child[1].Fd(), s.child[2].Fd()}
}

// closeChildEnds closes our copies of the child's ends. It must run once
// the child has started (or failed to): a write end left open here would
// keep an output copier from ever seeing EOF.
func (s *stdio) closeChildEnds() {
	for _, f := range s.childOwned {
		f.Close()
	}
	s.childOwned = nil
}

// start begins copying between the pipes and the Command's streams.
func (s *stdio) start() {
	for _, o := range s.outputs {
		s.copying.Add(1)
		go s.copyOutput(o)
	}
	if s.stdinPipe != nil {
		go func(src io.Reader, dst *os.File) {
			// Errors are expected and dropped: the child need not read
			// all of its input (EPIPE), and finish closes dst.
			_, _ = io.Copy(dst, src)
			dst.Close()
		}(s.stdinSrc, s.stdinPipe)
	}
}

// copyOutput copies one output pipe to its writer until EOF, which comes
// once every process holding the write end has exited.
func (s *stdio) copyOutput(o output) {
	defer s.copying.Done()
	_, err := io.Copy(o.w, o.r)
	// Closing the read end makes the writer get EPIPE instead of
	// blocking forever on a full pipe if we stopped early.
	o.r.Close()
	if err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = fmt.Errorf("probe: copying %s: %w", o.name, err)
		}
		s.mu.Unlock()
	}
}

// finish is called once no traced process is left: it unblocks the stdin
// copier and waits until the outputs are drained.
func (s *stdio) finish() error {
	if s.stdinPipe != nil {
		s.stdinPipe.Close()
	}
	s.copying.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// abort closes our pipe ends when the child never started.
func (s *stdio) abort() {
	if s.stdinPipe != nil {
		s.stdinPipe.Close()
	}
	for _, o := range s.outputs {
		o.r.Close()
	}
}

// sameWriter reports whether a and b are the same writer. Comparing
// interfaces panics when the dynamic type is not comparable; such writers
// are never considered equal (os/exec does the same).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

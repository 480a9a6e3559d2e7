package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/fsroot"
	"github.com/smithbuild/smith/internal/probe"
	"github.com/smithbuild/smith/internal/protocol"
)

// Probe runs one smith.yaml probe inside the finished image, as the
// build's probe step does: the command under ptrace with env as its
// environment, its exit code and output checked, and every lookup that
// failed for a file the source has reported as a path to add. The
// command's output goes to stdout, the verdict to stderr.
func Probe(ctx context.Context, p protocol.Probe, env []string, stdout, stderr io.Writer) error {
	// Bounded: a probe that never ends (a server, say) fails the build
	// instead of hanging it; its output is kept up to 1 MiB for the check.
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out := &capped{max: 1 << 20}
	w := io.MultiWriter(out, stdout)
	res, err := probe.Run(ctx, probe.Command{Args: p.Args, Env: env, Stdin: strings.NewReader(p.Stdin), Stdout: w, Stderr: w})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: `%s` ran longer than %s; a probe must end by itself", p.Origin, strings.Join(p.Args, " "), probeTimeout)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.Origin, err)
	}
	fixes, err := missingFromImage(p.Source, res.Misses)
	if err != nil {
		return err
	}
	cmd := strings.Join(p.Args, " ")
	var problems []string
	if res.ExitCode != p.Exit {
		problems = append(problems, fmt.Sprintf("exited %d, want %d", res.ExitCode, p.Exit))
	}
	if p.Output != "" && !strings.Contains(out.String(), p.Output) {
		problems = append(problems, fmt.Sprintf("its output does not contain %q", p.Output))
	}
	if len(problems) == 0 {
		fmt.Fprintf(stderr, "%s: `%s` passed\n", p.Origin, cmd)
		for _, f := range fixes {
			fmt.Fprintf(stderr, "note: %s: looked for a file the image lacks: %s\n", p.Origin, f)
		}
		return nil
	}
	msg := fmt.Sprintf("%s: `%s` %s", p.Origin, cmd, strings.Join(problems, "; "))
	if len(fixes) > 0 {
		msg += "; files it looked for that the source has and the image lacks:\n  " + strings.Join(fixes, "\n  ")
	} else {
		msg += " (it looked for no file that the source has)"
	}
	return errors.New(msg)
}

// probeTimeout bounds one probe.
const probeTimeout = 5 * time.Minute

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(b []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		if len(b) > room {
			c.Buffer.Write(b[:room])
		} else {
			c.Buffer.Write(b)
		}
	}
	return len(b), nil
}

// missingFromImage turns failed lookups into fixes ("add to paths: P —
// opened by EXE") for the paths that exist in the source tree at src.
func missingFromImage(src string, misses []probe.Miss) ([]string, error) {
	root, err := os.OpenRoot(src)
	if err != nil {
		return nil, fmt.Errorf("opening the source tree: %w", err)
	}
	defer root.Close()
	phys := closure.PhysicalPaths(root.FS())
	var fixes []string
	seen := map[string]bool{}
	for _, m := range misses {
		if ignoredLookup(m.Path) || seen[m.Path] {
			continue
		}
		if !sourceHasFile(root, phys, m.Path) {
			continue // the source lacks it too (or it is a directory ld.so probes): not smith's to add
		}
		seen[m.Path] = true
		verb := "opened"
		switch m.Syscall {
		case "execve", "execveat":
			verb = "run"
		case "stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "readlink", "readlinkat":
			verb = "looked up"
		}
		by := m.Exe
		if by == "" {
			by = "the probe"
		}
		fixes = append(fixes, fmt.Sprintf("add to paths: %s — %s by %s", m.Path, verb, by))
	}
	return fixes, nil
}

// sourceHasFile tells whether p is a file (links followed, inside the
// source root) in the source tree.
func sourceHasFile(root *os.Root, phys func(string) (string, error), p string) bool {
	_, fi, err := fsroot.Follow(root, phys, p)
	return err == nil && fi.Mode().IsRegular()
}

// ignoredLookup tells the lookups no image change can satisfy: the kernel's
// file systems and the probe's own mounts.
func ignoredLookup(p string) bool {
	switch p {
	case "/etc/ld.so.cache", "/etc/ld.so.preload":
		return true // smith ships no loader cache: ld.so searches the directories
	}
	for _, dir := range []string{"/proc", "/sys", "/dev", "/.smith-probe"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return path.Clean(p) == "/"
}

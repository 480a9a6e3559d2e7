package helper

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/protocol"
)

// TestProbe runs probes on this machine as if it were the image, against a
// source tree that has a file this machine lacks.
func TestProbe(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, "smith-helper-test/data.conf", "x\n")
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"}
	run := func(p protocol.Probe) (string, error) {
		t.Helper()
		p.Origin, p.Source = closure.Origin{File: "smith.yaml", Line: 9, Col: 3, Field: "probe"}, src
		var stdout, stderr bytes.Buffer
		err := Probe(context.Background(), p, env, &stdout, &stderr)
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("ptrace is not permitted here: %v", err)
		}
		return stderr.String(), err
	}

	stderr, err := run(protocol.Probe{Args: []string{"sh", "-c", "echo hello; cat /smith-helper-test/data.conf"}, Exit: 1, Output: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"smith.yaml:9:3: probe[0]: `sh -c echo hello; cat /smith-helper-test/data.conf` passed\n",
		"note: smith.yaml:9:3: probe[0]: looked for a file the image lacks: add to paths: /smith-helper-test/data.conf — opened by "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	for _, tc := range []struct {
		probe protocol.Probe
		want  string
	}{
		{protocol.Probe{Args: []string{"cat", "/smith-helper-test/data.conf"}},
			"smith.yaml:9:3: probe[0]: `cat /smith-helper-test/data.conf` exited 1, want 0; files it looked for that the source has and the image lacks:\n  add to paths: /smith-helper-test/data.conf — opened by "},
		{protocol.Probe{Args: []string{"echo", "hi"}, Output: "bye"},
			"smith.yaml:9:3: probe[0]: `echo hi` its output does not contain \"bye\" (it looked for no file that the source has)"},
		{protocol.Probe{Args: []string{"sh", "-c", "exit 3"}, Exit: 0, Output: "x"},
			"`sh -c exit 3` exited 3, want 0; its output does not contain \"x\""},
		{protocol.Probe{Args: []string{"/smith-helper-test/none"}}, "smith.yaml:9:3: probe[0]: "},
	} {
		if _, err := run(tc.probe); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.probe.Args, err, tc.want)
		}
	}
}

func TestIgnoredLookup(t *testing.T) {
	for p, want := range map[string]bool{
		"/proc/self/maps": true, "/sys": true, "/dev/null": true, "/.smith-probe/src/x": true,
		"/etc/ld.so.cache": true, "/": true, "//": true,
		"/etc/hosts": false, "/procfs": false, "/usr/lib/x.so": false,
	} {
		if got := ignoredLookup(p); got != want {
			t.Errorf("ignoredLookup(%q) = %v", p, got)
		}
	}
}

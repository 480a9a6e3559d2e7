package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTraceFlags: a plan file, the flags that add to it, and the plan's
// version check.
func TestTraceFlags(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("SMITH_PLAN", "")
	t.Setenv("SOURCE_DATE_EPOCH", "")
	var stdout bytes.Buffer
	if err := runTrace([]string{"--root", root, "--plan-file", file("plan.json", `{"version":1,"trace":{"paths":[{"glob":"/etc/hostname"}]}}`)}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "/etc/hostname") {
		t.Errorf("stdout: %s", &stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", root}, "trace: no paths given"},
		{[]string{"--root", root, "--epoch", "-1", "/etc/hostname"}, `epoch "-1": want a non-negative number of seconds`},
		{[]string{"--root", root, "--plan-file", filepath.Join(dir, "none.json")}, "reading the plan: "},
		{[]string{"--root", root, "--plan-file", file("old.json", `{"trace":{"paths":[]}}`)}, "decoding the plan: no protocol version"},
		{[]string{"--root", root, "--plan", `{"version":2}`}, "decoding the plan: protocol version 2, but this smith speaks version 1"},
		{[]string{"--root", root, "--out", filepath.Join(dir, "out"), "--plan", `{"version":1}`}, "nothing to put in the image"},
	} {
		if err := runTrace(tc.args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestProbeRequest(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "probe.json")
	if err := os.WriteFile(spec, []byte(`{"version":7,"origin":{"file":"o"},"args":["true"],"source":"/"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: smith-frontend probe --spec FILE"},
		{[]string{"--spec", filepath.Join(dir, "none.json")}, "reading the probe: "},
		{[]string{"--spec", spec}, "decoding the probe: protocol version 7, but this smith speaks version 1"},
	} {
		if err := runProbe(context.Background(), tc.args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

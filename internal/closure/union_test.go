package closure

import (
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
)

// TestUnionTracesOverlayFiles: an ELF that only the overlay has is traced
// against libraries from the lower tree; an overlay file hides the lower
// one, and directories list both layers.
func TestUnionTracesOverlayFiles(t *testing.T) {
	lower := merged(t, fstest.MapFS{
		multiarch + "liba.so.1":     lnk("liba.so.1.0.0"),
		multiarch + "liba.so.1.0.0": fixture(t, "liba.so", 0o644),
		"opt/app/bin/keep":          txt("lower"),
		"opt/app/bin/hidden":        txt("lower"),
	})
	upper := fstest.MapFS{
		"opt/app/bin/app":       fixture(t, "app", 0o755),
		"opt/app/lib/libb.so.1": fixture(t, "libb.so", 0o644),
		"opt/app/bin/hidden":    txt("upper"),
		"opt/app/bin/run.sh":    exe("#!/bin/sh\n"),
		"opt/app/doc.sh":        txt("#!/bin/sh\n"), // not executable
	}
	u := Union(upper, lower)

	elves, err := Programs(upper)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(elves, []string{"/opt/app/bin/app", "/opt/app/bin/run.sh", "/opt/app/lib/libb.so.1"}) {
		t.Errorf("Programs = %q", elves)
	}
	c, err := Resolve(u, paths("/opt/app/bin/app"))
	if err != nil {
		t.Fatal(err)
	}
	got := dump(c)
	for _, want := range []string{"/opt/app/bin/app", "/opt/app/lib/libb.so.1", "/" + multiarch + "liba.so.1.0.0"} {
		if got[want] != "file" {
			t.Errorf("closure lacks %s: %v", want, got)
		}
	}
	b, err := u.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("opt/app/bin/hidden")
	if err != nil || string(b) != "upper" {
		t.Errorf("hidden = %q, %v; want the upper file", b, err)
	}
	ents, err := fs.ReadDir(u, "opt/app/bin")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"app", "hidden", "keep", "run.sh"}) {
		t.Errorf("ReadDir = %q", names)
	}
}

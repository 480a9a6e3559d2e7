package llbgen

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
)

// TestArchiveLayers: one unpack step per layer, each on the previous one,
// and the layered form is a merge of their diffs.
func TestArchiveLayers(t *testing.T) {
	in := ArchiveInputs{
		Archive:  config.Archive{File: "base.tar.gz", Tag: "v1"},
		Context:  llb.Local("context"),
		Helper:   llb.Image("example.com/smith:test"),
		Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
	}
	root, layered := ArchiveLayers(in, 3)
	var unpacks []string
	for _, op := range ops(t, root) {
		if e := op.GetExec(); e != nil {
			unpacks = append(unpacks, strings.Join(e.Meta.Args, " "))
		}
	}
	if len(unpacks) != 3 {
		t.Fatalf("%d unpack steps, want 3: %q", len(unpacks), unpacks)
	}
	for _, u := range unpacks {
		for _, want := range []string{"unpack --context /smith/context --archive base.tar.gz", "--tag v1", "--platform linux/amd64"} {
			if !strings.Contains(u, want) {
				t.Errorf("%q lacks %q", u, want)
			}
		}
	}
	diffs, merges := 0, 0
	for _, op := range ops(t, layered) {
		if op.GetDiff() != nil {
			diffs++
		}
		if m := op.GetMerge(); m != nil {
			merges++
			if len(m.Inputs) != 3 {
				t.Errorf("merge of %d layers, want 3", len(m.Inputs))
			}
		}
	}
	// The first layer's diff against scratch is the layer itself: LLB
	// emits no diff op for it.
	if diffs != 2 || merges != 1 {
		t.Errorf("%d diffs and %d merges, want 2 and 1", diffs, merges)
	}
	inspect := ArchiveInspect(in)
	found := false
	for _, op := range ops(t, inspect) {
		if e := op.GetExec(); e != nil && strings.Contains(strings.Join(e.Meta.Args, " "), "--inspect") {
			found = true
		}
	}
	if !found {
		t.Error("no --inspect step")
	}
}

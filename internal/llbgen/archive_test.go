package llbgen

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/protocol"
)

// unpackRequests returns the unpack requests the steps of st read from
// their request mounts, and checks each step runs the helper on its file.
func unpackRequests(t *testing.T, st llb.State) []protocol.Unpack {
	t.Helper()
	for _, op := range ops(t, st) {
		if e := op.GetExec(); e != nil {
			if got := strings.Join(e.Meta.Args, " "); got != HelperPath+" unpack --request /smith/request/unpack.json" {
				t.Errorf("unpack step runs %q", got)
			}
		}
	}
	var reqs []protocol.Unpack
	for _, b := range mkfiles(t, st, "/unpack.json") {
		r, err := protocol.DecodeUnpack(b)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// TestArchiveLayers: one unpack step per layer, each on the previous one,
// and the layered form is a merge of their diffs.
func TestArchiveLayers(t *testing.T) {
	in := ArchiveInputs{
		Archive:  config.Archive{File: "./images/base.tar.gz", Tag: "v1"},
		Context:  llb.Local("context"),
		Helper:   llb.Image("example.com/smith:test"),
		Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		MaxBytes: 1 << 20,
	}
	root, layered, err := ArchiveLayers(in, 3)
	if err != nil {
		t.Fatal(err)
	}
	reqs := unpackRequests(t, root)
	if len(reqs) != 3 {
		t.Fatalf("%d unpack requests, want 3: %+v", len(reqs), reqs)
	}
	layers := map[int]bool{}
	for _, r := range reqs {
		layers[r.Layer] = true
		want := protocol.Unpack{Version: protocol.Version, Archive: "images/base.tar.gz", Context: "/smith/context",
			Name: "./images/base.tar.gz", Tag: "v1", Platform: "linux/amd64", TempDir: "/tmp", MaxBytes: 1 << 20,
			Out: "/smith/out", Layer: r.Layer}
		if r != want {
			t.Errorf("request %+v, want %+v", r, want)
		}
	}
	if len(layers) != 3 || !layers[0] || !layers[2] {
		t.Errorf("layers %v, want 0, 1 and 2", layers)
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
	inspect, err := ArchiveInspect(in)
	if err != nil {
		t.Fatal(err)
	}
	if reqs := unpackRequests(t, inspect); len(reqs) != 1 || !reqs[0].Inspect {
		t.Errorf("inspection requests: %+v", reqs)
	}
}

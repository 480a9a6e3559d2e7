package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithbuild/smith/internal/protocol"
)

// TestUnpackFlags: the flags and the request file reach the helper as one
// request, or fail before anything is opened.
func TestUnpackFlags(t *testing.T) {
	dir := t.TempDir()
	n := 0
	req := func(u protocol.Unpack, version int) string {
		b, err := protocol.EncodeUnpack(u)
		if err != nil {
			t.Fatal(err)
		}
		if version != protocol.Version {
			b = []byte(strings.Replace(string(b), `"version":1`, `"version":9`, 1))
		}
		n++
		p := filepath.Join(dir, fmt.Sprintf("unpack%d.json", n))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing.tar")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--archive", missing, "--out", dir}, "unpack: give exactly one of --inspect and --layer K"},
		{[]string{"--archive", missing, "--out", dir, "--inspect", "--layer", "0"}, "unpack: give exactly one of --inspect and --layer K"},
		{[]string{"--archive", missing, "--inspect"}, "unpack: --archive and --out are required"},
		{[]string{"--archive", missing, "--out", dir, "--inspect", "x"}, `unpack: unexpected argument "x"`},
		{[]string{"--archive", missing, "--out", dir, "--inspect"}, "missing.tar: no such file or directory"},
		{[]string{"--request", filepath.Join(dir, "none.json")}, "reading the unpack request: "},
		{[]string{"--request", req(protocol.Unpack{Archive: missing, Out: dir, Layer: 1}, protocol.Version)}, "missing.tar: no such file or directory"},
		{[]string{"--request", req(protocol.Unpack{Archive: missing, Out: dir}, 9)}, "decoding the unpack request: protocol version 9, but this smith speaks version 1"},
		{[]string{"--request", req(protocol.Unpack{Archive: missing, Out: dir}, protocol.Version), "--out", dir}, "unpack: --request takes no other flag or argument"},
	} {
		err := runUnpack(tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

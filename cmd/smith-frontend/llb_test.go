package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// opsOf decodes the definition runLLB wrote.
func opsOf(t *testing.T, b []byte) map[string]int {
	t.Helper()
	def, err := llb.ReadFrom(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		switch {
		case op.GetExec() != nil:
			kinds["exec"]++
		case op.GetMerge() != nil:
			kinds["merge"]++
		case op.GetSource() != nil:
			kinds[strings.SplitN(op.GetSource().Identifier, "://", 2)[0]]++
		}
	}
	return kinds
}

func TestRunLLB(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       map[string]int
		err        string
	}{
		{name: "oci", yaml: "package: docker.io/library/debian:12\npaths: [/usr/bin/cat]\n",
			want: map[string]int{"exec": 1, "docker-image": 2, "local": 1}},
		{name: "rpm with a parent", yaml: "package: httpd\nrepos: [{name: a, baseurl: ./repo, gpgcheck: false}]\nparent: base:1\npaths: [/usr/sbin/httpd]\n",
			want: map[string]int{"exec": 2, "merge": 1, "docker-image": 3, "local": 2}},
		{name: "archive", yaml: "package: img.tar.gz\npaths: [/x]\n",
			err: "smith.yaml:1:10: package: an image archive needs the frontend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "smith.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := runLLB([]string{"--platform", "linux/amd64", file}, &out, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want prefix %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := opsOf(t, out.Bytes())
			for k, n := range tc.want {
				if got[k] != n {
					t.Errorf("%s ops: %d, want %d (all: %v)", k, got[k], n, got)
				}
			}
		})
	}
}

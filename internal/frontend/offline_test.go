package frontend

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestOffline: offline LLB takes the build's own path, with images pulled
// by reference, build contexts as local sources and nothing solved.
func TestOffline(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		ops        []string
		warning    string
		err        string
	}{
		{name: "image", yaml: ociYAML, ops: []string{
			"source docker-image://docker.io/debian/x:1 [[smith] pull docker.io/debian/x:1]",
			"source docker-image://docker.io/smith/frontend:test",
			"source local://context [[smith] load rootfs/ from the build context]",
		}},
		{name: "RPM install with a parent", yaml: rpmYAML + "parent: base:1\n", ops: []string{
			"source docker-image://docker.io/library/oraclelinux:9",
			"source docker-image://docker.io/library/base:1",
		}},
		{name: "credentials", yaml: "package: https://u:p@registry.test/x:1\npaths: [/a]\n",
			ops:     []string{"source docker-image://registry.test/x:1"},
			warning: "warning: package: credentials in the image URL are ignored"},
		{name: "archive", yaml: "package: img.tar\npaths: [/a]\n",
			err: "smith.yaml:1:10: package: an image archive needs the frontend to read it: build with the frontend, not offline LLB"},
		{name: "invalid", yaml: ociYAML + "bogus: 1\n", err: `smith.yaml:3:1: unknown key "bogus"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warnings bytes.Buffer
			gen, err := Offline{Helper: helperImage, Warnings: &warnings}.Generate(context.Background(), "smith.yaml", []byte(tc.yaml), amd64)
			if checkErr(t, err, tc.err, 0) {
				return
			}
			checkOps(t, gen.State, amd64, tc.ops...)
			if !strings.HasPrefix(warnings.String(), tc.warning) || (tc.warning == "") != (warnings.Len() == 0) {
				t.Errorf("warnings %q, want %q", warnings.String(), tc.warning)
			}
		})
	}
}

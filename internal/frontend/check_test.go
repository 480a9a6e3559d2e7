package frontend

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/errdefs"
)

// TestNewBuildErrors: what --check reports, before anything is fetched,
// with smith.yaml's line where the error has one.
func TestNewBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		args, opts map[string]string
		err        string
		line       int32 // 0: no source attached
	}{
		{name: "unknown key", yaml: "package: debian/x:1\npaths: [/a]\npaht: [/b]\n",
			err: `smith.yaml:3:1: unknown key "paht"`, line: 3},
		{name: "bad user", yaml: "package: debian/x:1\npaths: [/a]\nuser: 'a:b:c'\n",
			err: "smith.yaml:3:", line: 3},
		{name: "bad image reference", yaml: "type: oci\npackage: x:img.tar\npaths: [/a]\n",
			err: `smith.yaml:2:10: package: "x:img.tar" names an archive (img.tar) but is not FILE.tar[:TAG]`, line: 2},
		{name: "bad parent reference", yaml: "package: debian/x:1\nparent: x.tar:a:b\npaths: [/a]\n",
			err: "smith.yaml:2:9: parent:", line: 2},
		{name: "SOURCE_DATE_EPOCH", yaml: "package: debian/x:1\npaths: [/a]\n",
			args: map[string]string{"SOURCE_DATE_EPOCH": "soon"}, err: `build arg SOURCE_DATE_EPOCH="soon": want a non-negative number of seconds`},
		{name: "SOURCE_DATE_EPOCH after 9999", yaml: "package: debian/x:1\npaths: [/a]\n",
			args: map[string]string{"SOURCE_DATE_EPOCH": "253402300800"}, err: `build arg SOURCE_DATE_EPOCH="253402300800": after the year 9999`},
		{name: "limit arg", yaml: "package: debian/x:1\npaths: [/a]\n",
			args: map[string]string{"SMITH_MAX_PATHS": "0"}, err: `build arg SMITH_MAX_PATHS="0": want a positive number`},
		{name: "paths over the raised limit", yaml: "package: debian/x:1\npaths: [/a, /b]\n",
			args: map[string]string{"SMITH_MAX_PATHS": "1"}, err: "smith.yaml:2:1: paths: 2 entries; the limit is 1 (raise it with --build-arg SMITH_MAX_PATHS=N)", line: 2},
		{name: "file over the size limit", yaml: "package: debian/x:1\npaths: [/a]\n",
			args: map[string]string{"SMITH_MAX_YAML_BYTES": "10"}, err: "smith.yaml is 32 bytes; the limit is 10"},
		{name: "smith-lock", yaml: "package: httpd\npaths: [/a]\n",
			opts: map[string]string{"smith-lock": "maybe"}, err: `smith-lock="maybe": want 1 (write smith.lock) or ignore`},
		{name: "SMITH_LOCK", yaml: "package: httpd\npaths: [/a]\n",
			args: map[string]string{"SMITH_LOCK": "2"}, err: `smith-lock="2"`},
		{name: "layer limit", yaml: "package: debian/x:1\npaths: [/a]\n",
			args: map[string]string{"SMITH_MAX_LAYERS": "many"}, err: `build arg SMITH_MAX_LAYERS="many": want a positive number`},
		{name: "archive byte limit", yaml: "package: debian/x:1\npaths: [/a]\n",
			args: map[string]string{"SMITH_MAX_ARCHIVE_BYTES": "-1"}, err: `build arg SMITH_MAX_ARCHIVE_BYTES="-1": want a positive number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			o := testOptions()
			o.BuildArgs, o.Opts = tc.args, tc.opts
			_, err := newBuild(context.Background(), r, source(tc.yaml, nil), o)
			checkErr(t, err, tc.err, tc.line)
			if srcs := errdefs.Sources(err); tc.line == 0 && len(srcs) > 0 {
				t.Errorf("a source is attached: %+v", srcs)
			}
			if len(r.resolved)+len(r.named)+len(r.read)+len(r.solves) > 0 {
				t.Errorf("something was fetched: %v %v %v %d solves", r.resolved, r.named, r.read, len(r.solves))
			}
		})
	}
}

// TestNewBuild: a valid smith.yaml with build-args gives the epoch and lock
// mode the build runs with; credentials in image URLs are redacted from the
// source map and warned about once.
func TestNewBuild(t *testing.T) {
	yaml := "package: https://u:secret@registry.test/x:1\nparent: https://u:secret@registry.test/base:1\npaths: [/a]\n"
	var warned []string
	o := testOptions()
	o.BuildArgs = map[string]string{"SOURCE_DATE_EPOCH": "1700000000", "SMITH_LOCK": "ignore"}
	src := source(yaml, &warned)
	b, err := newBuild(context.Background(), newFake(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	if !b.epoch.Equal(time.Unix(1700000000, 0)) || b.mode != "ignore" {
		t.Errorf("epoch %v, mode %q", b.epoch, b.mode)
	}
	if strings.Contains(string(src.SourceMap.Data), "secret") {
		t.Errorf("source map not redacted: %s", src.SourceMap.Data)
	}
	want := "package and parent: credentials in the image URL are ignored and not recorded; the builder's registry login is used (line 1) (line 2)"
	if len(warned) != 1 || warned[0] != want {
		t.Errorf("warnings = %q", warned)
	}
}

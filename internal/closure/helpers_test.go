package closure

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

func txt(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }

func exe(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o755} }

func lnk(target string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
}

func dir() *fstest.MapFile { return &fstest.MapFile{Mode: fs.ModeDir | 0o755} }

// fixture returns a MapFile with the bytes of testdata/elf/name.
func fixture(t *testing.T, name string, mode fs.FileMode) *fstest.MapFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "elf", name))
	if err != nil {
		t.Fatalf("reading fixture (run hack/gen-elf-fixtures): %v", err)
	}
	return &fstest.MapFile{Data: b, Mode: mode}
}

// dump renders a closure as path -> "kind [target]".
func dump(c *Closure) map[string]string {
	m := map[string]string{}
	for _, e := range c.Entries {
		s := e.Kind.String()
		if e.Kind == Symlink {
			s += " " + e.Target
		}
		m[e.Path] = s
	}
	return m
}

func paths(ps ...string) Request {
	var r Request
	for _, p := range ps {
		r.Paths = append(r.Paths, Pattern{Glob: p})
	}
	return r
}

func diffMaps(want, got map[string]string) string {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case !wok:
			fmt.Fprintf(&b, "  + %s: %s\n", k, g)
		case !gok:
			fmt.Fprintf(&b, "  - %s: %s\n", k, w)
		case w != g:
			fmt.Fprintf(&b, "  ~ %s: want %s, got %s\n", k, w, g)
		}
	}
	return b.String()
}

type resolveCase struct {
	summary string
	fsys    fstest.MapFS
	req     Request
	want    map[string]string // nil when an error is expected
	err     string            // substring of the error
}

func runCases(t *testing.T, cases []resolveCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.summary, func(t *testing.T) {
			c, err := Resolve(tc.fsys, tc.req)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got closure %v", tc.err, dump(c))
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %q does not contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			got := dump(c)
			if !reflect.DeepEqual(tc.want, got) {
				t.Fatalf("closure mismatch (-want +got):\n%s", diffMaps(tc.want, got))
			}
			for i := 1; i < len(c.Entries); i++ {
				if c.Entries[i-1].Path >= c.Entries[i].Path {
					t.Fatalf("entries not sorted and unique at %s", c.Entries[i].Path)
				}
			}
		})
	}
}

package closure

import (
	"bytes"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestGlob(t *testing.T) {
	root := fstest.MapFS{
		"usr/bin/cat":     exe("cat"),
		"usr/bin/cp":      exe("cp"),
		"usr/bin/ls":      exe("ls"),
		"etc/.hidden":     txt("h"),
		"etc/passwd":      txt("p"),
		"usr/lib/x/a.so":  txt("a"),
		"usr/lib/x/b.so":  txt("b"),
		"usr/lib/x/c.txt": txt("c"),
	}
	runCases(t, []resolveCase{{
		summary: "literal",
		fsys:    root,
		req:     paths("/usr/bin/cat"),
		want:    map[string]string{"/usr/bin/cat": "file"},
	}, {
		summary: "star in last component, root-relative pattern",
		fsys:    root,
		req:     paths("usr/bin/c*"),
		want:    map[string]string{"/usr/bin/cat": "file", "/usr/bin/cp": "file"},
	}, {
		summary: "star matches dot files",
		fsys:    root,
		req:     paths("/etc/*"),
		want:    map[string]string{"/etc/.hidden": "file", "/etc/passwd": "file"},
	}, {
		summary: "star in a middle component",
		fsys:    root,
		req:     paths("/usr/*/x/*.so"),
		want:    map[string]string{"/usr/lib/x/a.so": "file", "/usr/lib/x/b.so": "file"},
	}, {
		summary: "no match with origin",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/usr/bin/catt", Origin: Origin{File: "smith.yaml", Line: 5, Col: 3, Field: "paths", Index: 0}}}},
		err:     `smith.yaml:5:3: paths[0]: no file matches "/usr/bin/catt"`,
	}, {
		summary: "optional no match",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/nope"}}, Optional: true},
		want:    map[string]string{},
	}, {
		summary: "bad pattern",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/usr/[", Origin: Origin{File: "o"}}}},
		err:     `o: bad pattern "/usr/["`,
	}})
}

func TestNoMatchErrorType(t *testing.T) {
	_, err := Resolve(fstest.MapFS{}, paths("/usr/bin/catt"))
	var nm *NoMatchError
	if !errors.As(err, &nm) {
		t.Fatalf("want *NoMatchError, got %T: %v", err, err)
	}
	if got, want := err.Error(), `no file matches "/usr/bin/catt"`; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

func TestSymlinks(t *testing.T) {
	runCases(t, []resolveCase{{
		summary: "relative link to a file",
		fsys:    fstest.MapFS{"usr/bin/sh": lnk("dash"), "usr/bin/dash": exe("d")},
		req:     paths("/usr/bin/sh"),
		want:    map[string]string{"/usr/bin/sh": "symlink dash", "/usr/bin/dash": "file"},
	}, {
		summary: "absolute link is re-rooted",
		fsys:    fstest.MapFS{"etc/alt/sh": lnk("/usr/bin/dash"), "usr/bin/dash": exe("d")},
		req:     paths("/etc/alt/sh"),
		want:    map[string]string{"/etc/alt/sh": "symlink /usr/bin/dash", "/usr/bin/dash": "file"},
	}, {
		summary: "bin -> usr/bin",
		fsys:    fstest.MapFS{"bin": lnk("usr/bin"), "usr/bin/cat": exe("c")},
		req:     paths("/bin/cat"),
		want:    map[string]string{"/bin": "symlink usr/bin", "/usr/bin/cat": "file"},
	}, {
		summary: "bin -> /usr/bin with a glob behind it",
		fsys:    fstest.MapFS{"bin": lnk("/usr/bin"), "usr/bin/cat": exe("c"), "usr/bin/cp": exe("c")},
		req:     paths("/bin/c*"),
		want:    map[string]string{"/bin": "symlink /usr/bin", "/usr/bin/cat": "file", "/usr/bin/cp": "file"},
	}, {
		summary: "chain of links",
		fsys: fstest.MapFS{
			"lib64":             lnk("usr/lib64"),
			"usr/lib64/ld.so":   lnk("../lib/x/ld-2.so"),
			"usr/lib/x/ld-2.so": txt("ld"),
		},
		req: paths("/lib64/ld.so"),
		want: map[string]string{
			"/lib64":             "symlink usr/lib64",
			"/usr/lib64/ld.so":   "symlink ../lib/x/ld-2.so",
			"/usr/lib/x/ld-2.so": "file",
		},
	}, {
		summary: "link to a dir copies the tree",
		fsys: fstest.MapFS{
			"data/linkdir":       lnk("realdir"),
			"data/realdir/a":     txt("a"),
			"data/realdir/sub/b": txt("b"),
			"data/other":         txt("o"),
		},
		req: paths("/data/linkdir"),
		want: map[string]string{
			"/data/linkdir":       "symlink realdir",
			"/data/realdir":       "dir",
			"/data/realdir/a":     "file",
			"/data/realdir/sub":   "dir",
			"/data/realdir/sub/b": "file",
		},
	}, {
		summary: "links inside a tree are kept and followed",
		fsys: fstest.MapFS{
			"usr/share/foo/a":        txt("a"),
			"usr/share/foo/lib":      lnk("../../lib/x.so"),
			"usr/share/foo/conf":     lnk("/etc/foo"),
			"usr/share/foo/dangling": lnk("nowhere"),
			"usr/share/foo/self":     lnk("."),
			"usr/lib/x.so":           txt("x"),
			"etc/foo/foo.conf":       txt("c"),
		},
		req: paths("/usr/share/foo"),
		want: map[string]string{
			"/usr/share/foo":          "dir",
			"/usr/share/foo/a":        "file",
			"/usr/share/foo/lib":      "symlink ../../lib/x.so",
			"/usr/share/foo/conf":     "symlink /etc/foo",
			"/usr/share/foo/dangling": "symlink nowhere",
			"/usr/share/foo/self":     "symlink .",
			"/usr/lib/x.so":           "file",
			"/etc/foo":                "dir",
			"/etc/foo/foo.conf":       "file",
		},
	}, {
		summary: "relative escape is clamped at the root",
		fsys:    fstest.MapFS{"a/b/x": lnk("../../../../../etc/passwd"), "etc/passwd": txt("p")},
		req:     paths("/a/b/x"),
		want:    map[string]string{"/a/b/x": "symlink ../../../../../etc/passwd", "/etc/passwd": "file"},
	}, {
		summary: "absolute escape is clamped at the root",
		fsys:    fstest.MapFS{"y": lnk("/../../etc/passwd"), "etc/passwd": txt("p")},
		req:     paths("/y"),
		want:    map[string]string{"/y": "symlink /../../etc/passwd", "/etc/passwd": "file"},
	}, {
		summary: "dangling link is kept",
		fsys:    fstest.MapFS{"d": lnk("/nowhere/x")},
		req:     paths("/d"),
		want:    map[string]string{"/d": "symlink /nowhere/x"},
	}, {
		summary: "loop is an error",
		fsys:    fstest.MapFS{"a": lnk("b"), "b": lnk("/a")},
		req:     Request{Paths: []Pattern{{Glob: "/a", Origin: Origin{File: "smith.yaml", Line: 2, Col: 3, Field: "paths", Index: 0}}}},
		err:     "smith.yaml:2:3: paths[0]: resolving /a: too many levels of symbolic links",
	}, {
		summary: "loop in a glob directory is an error",
		fsys:    fstest.MapFS{"a": lnk("a")},
		req:     paths("/a/*"),
		err:     "too many levels of symbolic links",
	}, {
		summary: "special files are skipped",
		fsys:    fstest.MapFS{"dev/x": &fstest.MapFile{Mode: 0o644 | 1<<26}, "dev/y": txt("y")},
		req:     paths("/dev"),
		want:    map[string]string{"/dev": "dir", "/dev/y": "file"},
	}})
}

func TestExcludes(t *testing.T) {
	root := fstest.MapFS{
		"usr/share/doc/foo/README":   txt("r"),
		"usr/share/doc/foo/sub/x":    txt("x"),
		"usr/share/doc/bar/README":   txt("r"),
		"usr/share/doc/bar/notes.md": txt("n"),
	}
	runCases(t, []resolveCase{{
		summary: "exclude prunes a subtree",
		fsys:    root,
		req: Request{
			Paths:    []Pattern{{Glob: "/usr/share/doc"}},
			Excludes: []Pattern{{Glob: "/usr/share/doc/foo"}},
		},
		want: map[string]string{
			"/usr/share/doc":              "dir",
			"/usr/share/doc/bar":          "dir",
			"/usr/share/doc/bar/README":   "file",
			"/usr/share/doc/bar/notes.md": "file",
		},
	}, {
		summary: "exclude glob on names",
		fsys:    root,
		req: Request{
			Paths:    []Pattern{{Glob: "/usr/share/doc/bar"}},
			Excludes: []Pattern{{Glob: "usr/share/doc/*/*.md"}},
		},
		want: map[string]string{"/usr/share/doc/bar": "dir", "/usr/share/doc/bar/README": "file"},
	}, {
		summary: "bad exclude pattern",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/usr"}}, Excludes: []Pattern{{Glob: "[", Origin: Origin{Field: "excludes"}}}},
		err:     `excludes[0]: bad pattern "["`,
	}})
}

func TestWhy(t *testing.T) {
	root := fstest.MapFS{"bin": lnk("usr/bin"), "usr/bin/cat": exe("c")}
	c, err := Resolve(root, Request{Paths: []Pattern{{Glob: "/bin/cat", Origin: Origin{File: "smith.yaml", Line: 5, Col: 3, Field: "paths", Index: 0}}}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Why(&b); err != nil {
		t.Fatal(err)
	}
	want := "/bin          symlink -> usr/bin  symlink on the way to /bin/cat\n" +
		"/usr/bin/cat  file                requested by paths[0] (/bin/cat)\n"
	if b.String() != want {
		t.Fatalf("Why:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestKindText(t *testing.T) {
	for _, k := range []Kind{Dir, File, Symlink} {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Fatalf("round trip of %v gave %v, %v", k, back, err)
		}
	}
	if !strings.HasPrefix(Kind(9).String(), "Kind(") {
		t.Fatal("unknown kind should print as Kind(n)")
	}
}

func TestDeterminism(t *testing.T) {
	root := fstest.MapFS{
		"bin":             lnk("usr/bin"),
		"usr/bin/a":       exe("a"),
		"usr/bin/b":       exe("b"),
		"usr/share/z/1":   txt("1"),
		"usr/share/z/2":   lnk("1"),
		"usr/share/z/d/3": txt("3"),
	}
	req := paths("/bin/*", "/usr/share/z", "/usr/bin/a")
	first, err := Resolve(root, req)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		c, err := Resolve(root, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, c) {
			t.Fatalf("run %d differs", i)
		}
	}
	// Both requests for /usr/bin/a are merged into one entry with two reasons.
	for _, e := range first.Entries {
		if e.Path == "/usr/bin/a" && len(e.Reasons) != 2 {
			t.Fatalf("reasons of /usr/bin/a: %q", e.Reasons)
		}
	}
}

func TestExpandTokens(t *testing.T) {
	a := arch{triplets: []string{"x86_64-linux-gnu"}, platform: "x86_64", is64: true}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"$ORIGIN/../lib", []string{"/opt/bin/../lib"}},
		{"${ORIGIN}/x", []string{"/opt/bin/x"}},
		{"/usr/$LIB", []string{"/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib"}},
		{"/p/${PLATFORM}/$FOO", []string{"/p/x86_64/$FOO"}},
		{"/a/${ORIGIN", []string{"/a/${ORIGIN"}},
	} {
		got := expandTokens(tc.in, "/opt/bin", a)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("expandTokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNothingToCopy(t *testing.T) {
	root := fstest.MapFS{
		"dev/null":     &fstest.MapFile{Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666},
		"run/fifo":     &fstest.MapFile{Mode: fs.ModeNamedPipe | 0o644},
		"usr/bin/cat":  exe("cat"),
		"usr/bin/link": lnk("/dev/null"),
	}
	runCases(t, []resolveCase{{
		summary: "a device",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/dev/null", Origin: Origin{File: "smith.yaml", Line: 2, Col: 3, Field: "paths", Index: 0}}}},
		err:     "smith.yaml:2:3: paths[0]: /dev/null is a character device: only files, directories and symlinks can be copied",
	}, {
		summary: "a link to a device",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/usr/bin/link"}}},
		err:     "/usr/bin/link is a character device",
	}, {
		summary: "a pipe",
		fsys:    root,
		req:     Request{Paths: []Pattern{{Glob: "/run/*"}}},
		err:     "/run/fifo is a named pipe",
	}})
	c, err := Resolve(root, Request{Paths: []Pattern{{Glob: "/usr/bin/cat", Origin: Origin{File: "o"}}}, Excludes: []Pattern{{Glob: "/"}}})
	if err != nil || len(c.Entries) != 0 || len(c.Notes) != 1 || c.Notes[0] != `o: everything "/usr/bin/cat" matches is excluded` {
		t.Errorf("everything excluded: %v %+v", err, c)
	}
}

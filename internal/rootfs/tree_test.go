package rootfs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smithbuild/smith/internal/closure"
)

// mk builds a host tree from a compact spec: "file:MODE:content",
// "link:TARGET", "dir:MODE". MODE is octal and may carry special bits
// (4000 setuid, 2000 setgid, 1000 sticky).
func mk(t *testing.T, root string, spec map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(spec))
	for k := range spec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := filepath.Join(root, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		kind, rest, _ := strings.Cut(spec[k], ":")
		switch kind {
		case "file":
			modeText, content, _ := strings.Cut(rest, ":")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			chmod(t, p, modeText)
		case "dir":
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			chmod(t, p, rest)
		case "link":
			if err := os.Symlink(rest, p); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("bad spec %q", spec[k])
		}
	}
}

func chmod(t *testing.T, p, octal string) {
	t.Helper()
	var m uint32
	if _, err := fmt.Sscanf(octal, "%o", &m); err != nil {
		t.Fatal(err)
	}
	// syscall.Chmod takes the raw bits, special ones included.
	if err := syscall.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

// dumpTree renders a host tree as path -> "kind mode [content|target]".
func dumpTree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(root, p)
		if r == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			m["/"+r] = fmt.Sprintf("dir %04o", perm(fi))
		case fi.Mode()&fs.ModeSymlink != 0:
			tgt, _ := os.Readlink(p)
			m["/"+r] = "link " + tgt
		default:
			b, _ := os.ReadFile(p)
			m["/"+r] = fmt.Sprintf("file %04o %s", perm(fi), b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// perm returns the permission and special bits as the kernel keeps them.
func perm(fi fs.FileInfo) uint32 {
	return fi.Sys().(*syscall.Stat_t).Mode & 0o7777
}

func closureOf(t *testing.T, src string, ps ...string) *closure.Closure {
	t.Helper()
	root, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	req := closure.Request{}
	for _, p := range ps {
		req.Paths = append(req.Paths, closure.Pattern{Glob: p})
	}
	c, err := closure.Resolve(root.FS(), req)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func check(t *testing.T, want, got map[string]string) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	var b strings.Builder
	for _, k := range union(want, got) {
		if want[k] != got[k] {
			fmt.Fprintf(&b, "  %s: want %q, got %q\n", k, want[k], got[k])
		}
	}
	t.Fatalf("tree mismatch:\n%s", b.String())
}

func union(a, b map[string]string) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

func TestWriteModesAndLinks(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	mk(t, src, map[string]string{
		"usr/bin/app":      "file:0700:app",
		"usr/bin/su":       "file:4755:su",
		"usr/bin/grp":      "file:2711:grp",
		"usr/lib/lib.so":   "file:0600:lib",
		"usr/lib/lib2.so":  "file:0444:lib2",
		"bin":              "link:usr/bin",
		"etc/abs":          "link:/usr/bin/app",
		"tmp":              "dir:1777",
		"usr/share/d/x":    "file:0640:x",
		"usr/share/d/lnk":  "link:x",
		"usr/share/d/gone": "link:/nowhere",
	})
	if err := os.Link(filepath.Join(src, "usr/bin/app"), filepath.Join(src, "usr/bin/app2")); err != nil {
		t.Fatal(err)
	}
	c := closureOf(t, src, "/bin/app", "/bin/app2", "/usr/bin/su", "/usr/bin/grp", "/usr/lib/*", "/etc/abs", "/tmp", "/usr/share/d")
	var log bytes.Buffer
	if err := Write(src, c, out, []string{"/dev", "/proc", "/write"}, Options{Log: &log}); err != nil {
		t.Fatal(err)
	}
	check(t, map[string]string{
		"/bin":              "link usr/bin",
		"/dev":              "dir 0755",
		"/proc":             "dir 0755",
		"/write":            "dir 0755",
		"/etc":              "dir 0755",
		"/etc/abs":          "link /usr/bin/app",
		"/tmp":              "dir 0755",
		"/usr":              "dir 0755",
		"/usr/bin":          "dir 0755",
		"/usr/bin/app":      "file 0755 app",
		"/usr/bin/app2":     "file 0755 app",
		"/usr/bin/su":       "file 0755 su",
		"/usr/bin/grp":      "file 0755 grp",
		"/usr/lib":          "dir 0755",
		"/usr/lib/lib.so":   "file 0644 lib",
		"/usr/lib/lib2.so":  "file 0644 lib2",
		"/usr/share":        "dir 0755",
		"/usr/share/d":      "dir 0755",
		"/usr/share/d/x":    "file 0644 x",
		"/usr/share/d/lnk":  "link x",
		"/usr/share/d/gone": "link /nowhere",
	}, dumpTree(t, out))

	for _, want := range []string{"dropped setuid bit from /usr/bin/su", "dropped setgid bit from /usr/bin/grp", "dropped sticky bit from /tmp"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q lacks %q", log.String(), want)
		}
	}

	a, _ := os.Stat(filepath.Join(out, "usr/bin/app"))
	b, _ := os.Stat(filepath.Join(out, "usr/bin/app2"))
	if !os.SameFile(a, b) {
		t.Error("hard link app/app2 not preserved")
	}
	// The source is never modified.
	if fi, _ := os.Stat(filepath.Join(src, "usr/bin/su")); perm(fi) != 0o4755 {
		t.Errorf("source su mode changed to %o", perm(fi))
	}
	if os.Geteuid() == 0 {
		fi, _ := os.Lstat(filepath.Join(out, "etc/abs"))
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 {
			t.Errorf("etc/abs owned by %d:%d", st.Uid, st.Gid)
		}
	}
}

func TestWriteEpoch(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	mk(t, src, map[string]string{
		"a/b/c":   "file:0644:c",
		"a/b/l":   "link:c",
		"a/dl":    "link:/missing",
		"ovl/x/y": "file:0644:y",
	})
	epoch := time.Unix(1700000000, 0)
	c := closureOf(t, src, "/a")
	if err := Write(src, c, out, []string{"/run"}, Options{Epoch: epoch, Overlay: filepath.Join(src, "ovl")}); err != nil {
		t.Fatal(err)
	}
	for _, zero := range []bool{false, true} {
		if zero {
			out = filepath.Join(t.TempDir(), "out")
			epoch = time.Unix(0, 0)
			if err := Write(src, c, out, nil, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			if !fi.ModTime().Equal(epoch) {
				t.Errorf("%s: mtime %v, want %v", p, fi.ModTime(), epoch)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteOverlay(t *testing.T) {
	base, outParent := t.TempDir(), t.TempDir()
	src, ovl, out := filepath.Join(base, "src"), filepath.Join(base, "rootfs"), filepath.Join(outParent, "out")
	mk(t, src, map[string]string{
		"etc/conf":    "file:0644:old",
		"etc/keep":    "file:0644:keep",
		"etc/link":    "link:conf",
		"usr/bin/app": "file:0755:app",
		"escape":      "link:/",
		"rel":         "link:../../..",
	})
	mk(t, ovl, map[string]string{
		"etc/conf":       "file:0600:new",
		"etc/link":       "link:keep",
		"etc/new/sub":    "file:4755:sub",
		"etc/.gitignore": "file:0644:*",
		"usr/bin":        "dir:0700",
		"escape/pwned":   "file:0644:pwned",
		"rel/pwned2":     "file:0644:pwned2",
		"usr/bin/app":    "link:/bin/busybox",
	})
	c := closureOf(t, src, "/etc", "/usr/bin/app", "/escape", "/rel")
	var log bytes.Buffer
	if err := Write(src, c, out, nil, Options{Overlay: ovl, Log: &log}); err != nil {
		t.Fatal(err)
	}
	check(t, map[string]string{
		"/etc":          "dir 0755",
		"/etc/conf":     "file 0644 new",
		"/etc/keep":     "file 0644 keep",
		"/etc/link":     "link keep",
		"/etc/new":      "dir 0755",
		"/etc/new/sub":  "file 0755 sub",
		"/usr":          "dir 0755",
		"/usr/bin":      "dir 0755",
		"/usr/bin/app":  "link /bin/busybox",
		"/escape":       "dir 0755",
		"/escape/pwned": "file 0644 pwned",
		"/rel":          "dir 0755",
		"/rel/pwned2":   "file 0644 pwned2",
	}, dumpTree(t, out))
	if !strings.Contains(log.String(), "dropped setuid bit from /etc/new/sub") {
		t.Errorf("log %q lacks the setuid notice", log.String())
	}
	for _, p := range []string{"/pwned", filepath.Join(outParent, "pwned2"), filepath.Join(base, "pwned2")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written outside the output", p)
		}
	}
	// The overlay and source are untouched.
	if fi, _ := os.Stat(filepath.Join(ovl, "etc/new/sub")); perm(fi) != 0o4755 {
		t.Errorf("overlay file mode changed to %o", perm(fi))
	}
	if b, _ := os.ReadFile(filepath.Join(src, "etc/conf")); string(b) != "old" {
		t.Errorf("source etc/conf changed to %q", b)
	}
}

func TestWriteRefusesParentSymlink(t *testing.T) {
	// A hand-made closure that would write through a symlink it created.
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	mk(t, src, map[string]string{"x/f": "file:0644:f", "l": "link:/"})
	c := &closure.Closure{Entries: []closure.Entry{
		{Path: "/l", Kind: closure.Symlink, Target: "/"},
		{Path: "/l/f", Kind: closure.File},
	}}
	err := Write(src, c, out, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "/l is not a directory") {
		t.Fatalf("want a not-a-directory error, got %v", err)
	}
}

func TestWriteGeneratedFilesAndWritableDirs(t *testing.T) {
	base := t.TempDir()
	src, ovl, out := filepath.Join(base, "src"), filepath.Join(base, "rootfs"), filepath.Join(base, "out")
	mk(t, src, map[string]string{
		"etc/passwd":  "file:0600:from the source",
		"etc/group":   "file:0644:from the source",
		"usr/bin/app": "file:0755:app",
	})
	mk(t, ovl, map[string]string{
		"etc/group":   "file:0644:from rootfs",
		"usr/bin/new": "file:0755:only in rootfs",
	})
	c := closureOf(t, src, "/etc/passwd", "/etc/group", "/usr/bin/app")
	// A traced overlay file appears in the closure but not in the source.
	c.Entries = append(c.Entries, closure.Entry{Path: "/usr/bin/new", Kind: closure.File, Mode: 0o755})
	err := Write(src, c, out, []string{"/write", "/run"}, Options{
		Overlay: ovl,
		Files: []File{
			{Path: "/etc/passwd", Mode: 0o644, Data: []byte("generated\n")},
			{Path: "/etc/group", Mode: 0o644, Data: []byte("generated\n")},
			{Path: "/etc/nsswitch.conf", Mode: 0o600, Data: []byte("passwd: files\n")},
		},
		Writable: []string{"/write", "/run", "/data"},
		UID:      1000, GID: 1001,
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, map[string]string{
		"/etc":               "dir 0755",
		"/etc/passwd":        "file 0644 generated\n",
		"/etc/group":         "file 0644 from rootfs",
		"/etc/nsswitch.conf": "file 0644 passwd: files\n",
		"/usr":               "dir 0755",
		"/usr/bin":           "dir 0755",
		"/usr/bin/app":       "file 0755 app",
		"/usr/bin/new":       "file 0755 only in rootfs",
		"/write":             "dir 0755",
		"/run":               "dir 0755",
		"/data":              "dir 0755",
	}, dumpTree(t, out))
	if os.Geteuid() != 0 {
		t.Skip("ownership checks need root")
	}
	for _, d := range []string{"write", "run", "data"} {
		fi, err := os.Lstat(filepath.Join(out, d))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("/%s owned by %d:%d, want 1000:1001", d, st.Uid, st.Gid)
		}
	}
	fi, _ := os.Lstat(filepath.Join(out, "etc/passwd"))
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 {
		t.Errorf("/etc/passwd owned by %d:%d, want 0:0", st.Uid, st.Gid)
	}
}

// TestWriteOverlayReplacesDirTree: an overlay file where the skeleton has
// a directory tree replaces the whole tree, and the writer does not trip
// over the directories it removed.
func TestWriteOverlayReplacesDirTree(t *testing.T) {
	base := t.TempDir()
	src, ovl, out := filepath.Join(base, "src"), filepath.Join(base, "rootfs"), filepath.Join(base, "out")
	mk(t, src, map[string]string{"f": "file:0644:f"})
	mk(t, ovl, map[string]string{"a": "file:0644:now a file"})
	if err := Write(src, closureOf(t, src, "/f"), out, []string{"/a/b/c"}, Options{Overlay: ovl}); err != nil {
		t.Fatal(err)
	}
	check(t, map[string]string{"/f": "file 0644 f", "/a": "file 0644 now a file"}, dumpTree(t, out))
}

package helper

import (
	"bytes"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/protocol"
)

// writeTree creates name/content pairs under dir: a name ending in / is a
// directory, content starting with "->" a symlink to the rest.
func writeTree(t *testing.T, dir string, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		p := filepath.Join(dir, kv[i])
		var err error
		switch name, data := kv[i], kv[i+1]; {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(data, "->"):
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.Symlink(data[2:], p)
			}
		default:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.WriteFile(p, []byte(data), 0o600)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// listTree maps each path under dir to "dir", "file <data>" or
// "link <target>".
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, dir+"/"))
		switch {
		case d.IsDir():
			got[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[rel] = "link " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[rel] = "file " + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// fakeSource is a small Debian-like root: a data file reached through a
// link, a dpkg database that owns it, an os-release behind a link.
func fakeSource(t *testing.T) string {
	root := t.TempDir()
	writeTree(t, root,
		"usr/share/app/data.txt", "data\n",
		"usr/share/app/skip.txt", "skip\n",
		"etc/app", "->../usr/share/app",
		"etc/passwd", "root:x:0:0::/root:/bin/sh\n",
		"usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n",
		"etc/os-release", "->../usr/lib/os-release",
		"etc/debian_version", "12.5\n",
		"var/lib/dpkg/status", "Package: app\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n",
		"var/lib/dpkg/info/app.list", "/.\n/usr\n/usr/share\n/usr/share/app\n/usr/share/app/data.txt\n/usr/share/app/skip.txt\n",
	)
	return root
}

// TestTrace: a plan over a fake root writes the closure, the skeleton,
// the generated files and the overlay with smith's policy, and a package
// manifest that says where each file comes from and why.
func TestTrace(t *testing.T) {
	root, tmp := fakeSource(t), t.TempDir()
	overlay, out := filepath.Join(tmp, "rootfs"), filepath.Join(tmp, "out")
	writeTree(t, overlay, "etc/motd", "hello\n")
	mf := filepath.Join(tmp, "meta", "package-manifest.json")
	p := protocol.Plan{
		Trace: closure.Request{
			Paths:    []closure.Pattern{{Glob: "/etc/app/*.txt", Origin: closure.Origin{File: "smith.yaml", Line: 3, Col: 3, Field: "paths"}}},
			Excludes: []closure.Pattern{{Glob: "/usr/share/app/skip.txt"}},
		},
		Mkdir:    []string{"/write", "/run", "/read"},
		Writable: []string{"/write", "/run"},
		Owner:    protocol.Owner{UID: 10, GID: 10},
		Files: []protocol.File{
			{Path: "/etc/group", Mode: 0o644, Data: "root:x:0:\n"},
			{Path: "/etc/passwd", Mode: 0o644, Data: "smith:x:10:10::/write:/sbin/nologin\n", IfAbsent: true},
			{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: "passwd: files\n", When: protocol.WhenNSS},
		},
		Epoch:    1700000000,
		Manifest: mf,
		Record:   true,
	}
	var stdout, stderr bytes.Buffer
	if err := Trace(p, TraceOptions{Root: root, Out: out, Overlay: overlay, Planned: true, Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatal(err, stderr.String())
	}
	for _, want := range []string{"/etc/app ", "symlink -> ../usr/share/app", "/usr/share/app/data.txt ", "requested by paths[0] (/etc/app/*.txt)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the closure printed lacks %q:\n%s", want, &stdout)
		}
	}
	got := listTree(t, out)
	for p, want := range map[string]string{
		"/etc/app":                "link ../usr/share/app",
		"/usr/share/app/data.txt": "file data\n",
		"/etc/group":              "file root:x:0:\n",
		"/etc/passwd":             "file smith:x:10:10::/write:/sbin/nologin\n", // the closure has none
		"/etc/motd":               "file hello\n",
		"/etc/os-release":         "file ID=debian\nVERSION_ID=\"12\"\n",
		"/etc/debian_version":     "file 12.5\n",
		"/write":                  "dir",
		"/read":                   "dir",
	} {
		if got[p] != want {
			t.Errorf("%s: %q, want %q", p, got[p], want)
		}
	}
	for _, p := range []string{"/usr/share/app/skip.txt", "/etc/nsswitch.conf", "/var/lib/dpkg/status"} {
		if _, ok := got[p]; ok {
			t.Errorf("%s is in the output", p)
		}
	}
	if _, ok := got["/var/lib/dpkg/status.d/app"]; !ok {
		t.Errorf("no package record for scanners: %v", slices.Sorted(maps.Keys(got)))
	}
	fi, err := os.Lstat(filepath.Join(out, "usr/share/app/data.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 || !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Errorf("data.txt: mode %v, mtime %v", fi.Mode(), fi.ModTime())
	}
	if os.Geteuid() == 0 {
		for dir, uid := range map[string]uint32{"write": 10, "read": 0} {
			fi, err := os.Lstat(filepath.Join(out, dir))
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid {
				t.Errorf("/%s is owned by %d, want %d", dir, st.Uid, uid)
			}
		}
	}

	b, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := protocol.DecodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Distro == nil || m.Distro.ID != "debian" || len(m.Packages) != 1 || m.Packages[0].InstalledFiles != 2 {
		t.Errorf("manifest: distro %+v, packages %+v", m.Distro, m.Packages)
	}
	why := map[string]string{}
	owner := map[string]string{}
	for _, f := range m.Files {
		why[f.Path], owner[f.Path] = strings.Join(f.Reasons, "; "), f.Package
	}
	for p, want := range map[string]string{
		"/etc/motd":           "from rootfs/ in the build context",
		"/etc/group":          "generated by smith (group)",
		"/etc/debian_version": "names the distribution for vulnerability scanners (packagedb)",
	} {
		if why[p] != want {
			t.Errorf("%s: why %q, want %q", p, why[p], want)
		}
	}
	if !strings.Contains(why["/usr/share/app/data.txt"], "paths[0]") || owner["/usr/share/app/data.txt"] != m.Packages[0].ID {
		t.Errorf("data.txt: why %q, package %q (packages %+v)", why["/usr/share/app/data.txt"], owner["/usr/share/app/data.txt"], m.Packages)
	}
}

// TestTraceOnlyPrints: without an output folder the closure is printed and
// nothing is written.
func TestTraceOnlyPrints(t *testing.T) {
	root := fakeSource(t)
	var stdout bytes.Buffer
	p := protocol.Plan{Trace: closure.Request{Paths: []closure.Pattern{{Glob: "/etc/app/data.txt"}}}}
	if err := Trace(p, TraceOptions{Root: root, Stdout: &stdout, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "/usr/share/app/data.txt") {
		t.Errorf("stdout: %s", &stdout)
	}
}

func TestTraceRefuses(t *testing.T) {
	root, tmp := fakeSource(t), t.TempDir()
	writeTree(t, tmp, "link", "->/etc", "file", "x", "empty/", "")
	paths := func(globs ...string) protocol.Plan {
		var p protocol.Plan
		for _, g := range globs {
			p.Trace.Paths = append(p.Trace.Paths, closure.Pattern{Glob: g, Origin: closure.Origin{File: "smith.yaml", Line: 2, Col: 3, Field: "paths"}})
		}
		return p
	}
	for _, tc := range []struct {
		what    string
		plan    protocol.Plan
		o       TraceOptions
		want    string
		planned bool
	}{
		{"nothing at all", paths(), TraceOptions{Overlay: filepath.Join(tmp, "empty")}, "nothing to put in the image", true},
		{"a rootfs that is a link", paths("/etc/passwd"), TraceOptions{Overlay: filepath.Join(tmp, "link")}, `rootfs: is a symbolic link (to "/etc")`, true},
		{"a rootfs that is a file", paths("/etc/passwd"), TraceOptions{Overlay: filepath.Join(tmp, "file")}, "rootfs: is a file, not a directory", true},
		{"a path that matches nothing", paths("/nope"), TraceOptions{}, "smith.yaml:2:3: paths[0]", true},
		{"a missing root", paths("/x"), TraceOptions{Root: filepath.Join(tmp, "none")}, "opening root: ", false},
	} {
		o := tc.o
		if o.Root == "" {
			o.Root = root
		}
		o.Out, o.Planned, o.Stdout, o.Stderr = filepath.Join(t.TempDir(), "out"), tc.planned, io.Discard, io.Discard
		err := Trace(tc.plan, o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.what, err, tc.want)
		}
	}
	// By hand (no plan), an empty result is not an error: there was
	// nothing asked.
	if err := Trace(paths(), TraceOptions{Root: root, Out: filepath.Join(tmp, "out"), Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Errorf("by hand: %v", err)
	}
}

package closure

import (
	"errors"
	"io/fs"
	"reflect"
	"testing"
	"testing/fstest"
)

// mapWalk walks root, recording the links met and the components
// Missing is called with.
type mapWalk struct {
	Walk
	links   []string // "name -> target"
	missing []string
}

func newMapWalk(root fstest.MapFS) *mapWalk {
	w := &mapWalk{}
	w.Walk = Walk{
		Lstat:    func(name string) (fs.FileInfo, error) { return root.Lstat(fsName(name)) },
		ReadLink: func(name string) (string, error) { return root.ReadLink(fsName(name)) },
		MaxLinks: 4,
		Link: func(name, target string, fi fs.FileInfo) {
			if fi.Mode()&fs.ModeSymlink == 0 {
				panic("Link told of a non-link " + name)
			}
			w.links = append(w.links, name+" -> "+target)
		},
	}
	return w
}

func TestWalk(t *testing.T) {
	root := fstest.MapFS{
		"usr/bin/sh":       exe("sh"),
		"usr/lib":          &fstest.MapFile{Mode: fs.ModeDir | 0o755},
		"bin":              lnk("usr/bin"),
		"lib":              lnk("/usr/lib"),
		"up":               lnk("../../.."),
		"usr/bin/abs":      lnk("/bin/sh"),
		"usr/bin/rel":      lnk("../../../usr/bin/sh"),
		"usr/bin/dot":      lnk("./sh/."),
		"usr/bin/through":  lnk("sh/x"),
		"usr/bin/dangling": lnk("nowhere"),
		"loop/a":           lnk("b"),
		"loop/b":           lnk("a"),
		"chain/l1":         lnk("l2"),
		"chain/l2":         lnk("l3"),
		"chain/l3":         lnk("l4"),
		"chain/l4":         lnk("/usr"),
		"chain/l0":         lnk("l1"),
	}
	for _, tc := range []struct {
		summary string
		p       string
		dir     bool
		want    string
		links   []string
		err     error // matched with ==, as the walk's own errors are
		errIs   error // matched with errors.Is, for the funcs' errors
	}{
		{summary: "the root", p: "/", want: "/"},
		{summary: "the empty path is the root", p: "", want: "/"},
		{summary: "a relative path is root-relative", p: "usr//bin/./sh", want: "/usr/bin/sh"},
		{summary: ".. stops at the root", p: "/../../usr/../../usr/bin/sh", want: "/usr/bin/sh"},
		{summary: "a link in the middle", p: "/bin/sh", want: "/usr/bin/sh", links: []string{"/bin -> usr/bin"}},
		{summary: "a link at the end", p: "/lib", want: "/usr/lib", links: []string{"/lib -> /usr/lib"}},
		{
			summary: "an absolute target starts over at the root",
			p:       "/usr/bin/abs",
			want:    "/usr/bin/sh",
			links:   []string{"/usr/bin/abs -> /bin/sh", "/bin -> usr/bin"},
		},
		{
			summary: ".. in a target stops at the root",
			p:       "/usr/bin/rel",
			want:    "/usr/bin/sh",
			links:   []string{"/usr/bin/rel -> ../../../usr/bin/sh"},
		},
		{summary: "a link out of the root lands on it", p: "/up/usr", want: "/usr", links: []string{"/up -> ../../.."}},
		{summary: "a file with only dots after it", p: "/usr/bin/dot", want: "/usr/bin/sh", links: []string{"/usr/bin/dot -> ./sh/."}},
		{summary: "a file at the end of a directory walk", p: "/usr/bin/sh", dir: true, want: "/usr/bin/sh", err: ErrNotDir},
		{summary: "a directory at the end of a directory walk", p: "/bin", dir: true, want: "/usr/bin", links: []string{"/bin -> usr/bin"}},
		{summary: "a file with components after it", p: "/usr/bin/sh/x", want: "/usr/bin/sh", err: ErrNotDir},
		{summary: "a file with .. after it", p: "/usr/bin/sh/..", want: "/usr/bin/sh", err: ErrNotDir},
		{
			summary: "a target through a file",
			p:       "/usr/bin/through",
			want:    "/usr/bin/sh",
			links:   []string{"/usr/bin/through -> sh/x"},
			err:     ErrNotDir,
		},
		{summary: "a missing component", p: "/usr/nope/sh", want: "/usr/nope", errIs: fs.ErrNotExist},
		{
			summary: "a dangling link",
			p:       "/usr/bin/dangling",
			want:    "/usr/bin/nowhere",
			links:   []string{"/usr/bin/dangling -> nowhere"},
			errIs:   fs.ErrNotExist,
		},
		{
			summary: "MaxLinks links are followed",
			p:       "/chain/l1/bin",
			want:    "/usr/bin",
			links:   []string{"/chain/l1 -> l2", "/chain/l2 -> l3", "/chain/l3 -> l4", "/chain/l4 -> /usr"},
		},
		{
			summary: "one more is a loop",
			p:       "/chain/l0/bin",
			want:    "/chain/l4",
			links:   []string{"/chain/l0 -> l1", "/chain/l1 -> l2", "/chain/l2 -> l3", "/chain/l3 -> l4"},
			err:     ErrLoop,
		},
		{
			summary: "a loop",
			p:       "/loop/a",
			want:    "/loop/a",
			links:   []string{"/loop/a -> b", "/loop/b -> a", "/loop/a -> b", "/loop/b -> a"},
			err:     ErrLoop,
		},
	} {
		t.Run(tc.summary, func(t *testing.T) {
			w := newMapWalk(root)
			w.Dir = tc.dir
			got, err := w.Resolve(tc.p)
			switch {
			case tc.err != nil && err != tc.err:
				t.Errorf("Resolve(%q) error = %v, want %v", tc.p, err, tc.err)
			case tc.errIs != nil && !errors.Is(err, tc.errIs):
				t.Errorf("Resolve(%q) error = %v, want one matching %v", tc.p, err, tc.errIs)
			case tc.err == nil && tc.errIs == nil && err != nil:
				t.Errorf("Resolve(%q) error = %v", tc.p, err)
			}
			if got != tc.want {
				t.Errorf("Resolve(%q) = %q, want %q", tc.p, got, tc.want)
			}
			if !reflect.DeepEqual(w.links, tc.links) {
				t.Errorf("Resolve(%q) met links %q, want %q", tc.p, w.links, tc.links)
			}
		})
	}
}

// TestWalkMissing checks the Missing hook: a nil error makes the
// component a directory and the walk goes on, through links met after it;
// an error stops the walk with it, unchanged; errors other than a missing
// file never reach it.
func TestWalkMissing(t *testing.T) {
	root := fstest.MapFS{
		"usr/bin/sh": exe("sh"),
		"a/up":       lnk("/usr"),
		"dangling":   lnk("/new/dir"),
	}
	t.Run("made", func(t *testing.T) {
		w := newMapWalk(root)
		w.Missing = func(name string) error {
			w.missing = append(w.missing, name)
			root[fsName(name)] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			return nil
		}
		defer func() { delete(root, "new/dir"); delete(root, "new"); delete(root, "x/y") }()
		got, err := w.Resolve("/dangling/../../x/y/../../new/dir")
		if err != nil || got != "/new/dir" {
			t.Fatalf("Resolve = %q, %v, want /new/dir", got, err)
		}
		if want := []string{"/new", "/new/dir", "/x", "/x/y"}; !reflect.DeepEqual(w.missing, want) {
			t.Errorf("Missing called with %q, want %q", w.missing, want)
		}
	})
	t.Run("taken as made", func(t *testing.T) {
		// Missing's word is enough: the walk does not look again.
		w := newMapWalk(root)
		w.Missing = func(name string) error { w.missing = append(w.missing, name); return nil }
		got, err := w.Resolve("/a/b/c/../../up/bin/sh")
		if err != nil || got != "/usr/bin/sh" {
			t.Fatalf("Resolve = %q, %v, want /usr/bin/sh", got, err)
		}
		if want := []string{"/a/b", "/a/b/c"}; !reflect.DeepEqual(w.missing, want) {
			t.Errorf("Missing called with %q, want %q", w.missing, want)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		stop := errors.New("stop")
		w := newMapWalk(root)
		w.Missing = func(name string) error { return stop }
		got, err := w.Resolve("/usr/lib/x")
		if err != stop || got != "/usr/lib" {
			t.Errorf("Resolve = %q, %v, want /usr/lib, stop", got, err)
		}
	})
	t.Run("other errors", func(t *testing.T) {
		denied := &fs.PathError{Op: "lstat", Path: "usr", Err: fs.ErrPermission}
		w := newMapWalk(root)
		w.Lstat = func(string) (fs.FileInfo, error) { return nil, denied }
		w.Missing = func(name string) error { t.Errorf("Missing(%q) called", name); return nil }
		got, err := w.Resolve("/usr/bin")
		if err != denied || got != "/usr" {
			t.Errorf("Resolve = %q, %v, want /usr, %v", got, err, denied)
		}
	})
	t.Run("a ReadLink error", func(t *testing.T) {
		broken := errors.New("broken")
		w := newMapWalk(root)
		w.ReadLink = func(string) (string, error) { return "", broken }
		got, err := w.Resolve("/a/up/bin")
		if err != broken || got != "/a/up" || w.links != nil {
			t.Errorf("Resolve = %q, %v with links %q, want /a/up, broken, none", got, err, w.links)
		}
	})
}

// TestWalkLongLoop checks that a loop stops after MaxLinks hops however the
// links lengthen the path.
func TestWalkLongLoop(t *testing.T) {
	root := fstest.MapFS{"d": lnk("d/d/d/d")}
	for _, n := range []int{0, 1, 255} {
		w := newMapWalk(root)
		w.MaxLinks = n
		got, err := w.Resolve("/d")
		if err != ErrLoop || got != "/d" || len(w.links) != n {
			t.Errorf("MaxLinks %d: Resolve = %q, %v after %d links, want /d, ErrLoop after %d", n, got, err, len(w.links), n)
		}
	}
	if !errors.Is(ErrNotDir, fs.ErrNotExist) || ErrLoop.Error() != "too many levels of symbolic links" {
		t.Errorf("sentinels changed: %v, %v", ErrNotDir, ErrLoop)
	}
}

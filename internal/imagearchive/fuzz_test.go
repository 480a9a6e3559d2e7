package imagearchive

import (
	"bytes"
	"testing"
)

// FuzzApplyLayer: any layer content, in a valid layout, is applied or
// refused, never panics and never writes outside the root (newRoot checks).
func FuzzApplyLayer(f *testing.F) {
	f.Add([]byte{})
	f.Add(makeTar(f, file("a/b", "x"), symlink("a/c", "/etc"), file("a/c/passwd", "y")))
	f.Add(makeTar(f, symlink("up", "../../.."), file("up/escape", "x"), hardlink("h", "../x")))
	f.Add(makeTar(f, dir("o/"), file("o/.wh..wh..opq", ""), file(".wh.gone", "")))
	f.Fuzz(func(t *testing.T, layer []byte) {
		l := newLayout(t)
		l.add(l.image("amd64", "", "x", testLayer{tar: layer}), "")
		b := l.tar()
		a, err := Open(bytes.NewReader(b), int64(len(b)), "fuzz.tar")
		if err != nil {
			t.Fatal(err) // the layout itself is valid
		}
		defer a.Close()
		img, err := a.Image("", nil)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := newRoot(t)
		_ = img.ApplyLayer(0, root, nil)
	})
}

// FuzzOpen: any archive bytes open or fail, never panic.
func FuzzOpen(f *testing.F) {
	l := newLayout(f)
	l.add(l.image("amd64", "", "x", testLayer{tar: makeTar(f, file("x", "x"))}), "latest")
	f.Add(l.tar())
	f.Add([]byte("\x1f\x8b\x08"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := OpenWith(bytes.NewReader(b), int64(len(b)), "fuzz.tar", Options{TempDir: t.TempDir(), MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Image("", nil)
	})
}

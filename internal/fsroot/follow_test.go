package fsroot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smithbuild/smith/internal/closure"
)

func TestFollowInRoot(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "usr/lib"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "usr/lib/os-release"), []byte("ID=x\n"), 0o644))
	must(os.Symlink("../usr/lib/os-release", filepath.Join(dir, "etc/os-release")))
	must(os.Symlink("/usr/lib/os-release", filepath.Join(dir, "etc/abs")))
	must(os.Symlink("../../../../../etc/passwd", filepath.Join(dir, "etc/up")))
	must(os.Symlink("loop", filepath.Join(dir, "etc/loop")))
	root, err := os.OpenRoot(dir)
	must(err)
	defer root.Close()
	phys := closure.PhysicalPaths(root.FS())
	for _, p := range []string{"/etc/os-release", "/etc/abs"} {
		if q, fi, err := Follow(root, phys, p); err != nil || q != "/usr/lib/os-release" || !fi.Mode().IsRegular() {
			t.Errorf("%s: %q %v %v", p, q, fi, err)
		}
	}
	if _, _, err := Follow(root, phys, "/etc/up"); err == nil {
		t.Error("/etc/up resolved to a file outside the root's /etc/passwd (which does not exist inside)")
	}
	if _, _, err := Follow(root, phys, "/etc/loop"); err == nil {
		t.Error("a link loop resolved")
	}
}

package helper

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smithbuild/smith/internal/closure"
)

// TestReadInRoot: the helper's readers go through fsroot.Follow, so links
// are taken inside the root (fsroot's tests cover the walk itself).
func TestReadInRoot(t *testing.T) {
	dir := t.TempDir()
	for _, err := range []error{
		os.MkdirAll(filepath.Join(dir, "usr/lib"), 0o755),
		os.MkdirAll(filepath.Join(dir, "etc"), 0o755),
		os.WriteFile(filepath.Join(dir, "usr/lib/os-release"), []byte("ID=x\n"), 0o644),
		os.Symlink("/usr/lib/os-release", filepath.Join(dir, "etc/os-release")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if b, err := readInRoot(root, "etc/os-release"); err != nil || string(b) != "ID=x\n" {
		t.Errorf("readInRoot: %v %q", err, b)
	}
	phys := closure.PhysicalPaths(root.FS())
	if !sourceHasFile(root, phys, "/etc/os-release") || sourceHasFile(root, phys, "/etc") || sourceHasFile(root, phys, "/nope") {
		t.Error("sourceHasFile")
	}
}

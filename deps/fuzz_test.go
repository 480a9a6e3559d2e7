package deps

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzResolveELF: a malformed ELF file makes Resolve fail or succeed, never
// panic.
func FuzzResolveELF(f *testing.F) {
	for _, name := range []string{"app", "liba.so", "libb.so", "app-rpath"} {
		b, err := os.ReadFile(filepath.Join("testdata", "elf", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"bin/x":                      &fstest.MapFile{Data: data, Mode: 0o755},
			"lib64/ld-linux-x86-64.so.2": &fstest.MapFile{Data: data, Mode: 0o755},
		}
		_, _ = Resolve(fsys, paths("/bin/x"))
	})
}

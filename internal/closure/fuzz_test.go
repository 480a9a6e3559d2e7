package closure

import (
	"os"
	"path/filepath"
	"strings"
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

// FuzzDlopenJSON: any .note.dlopen payload fails or parses, never panics.
func FuzzDlopenJSON(f *testing.F) {
	f.Add([]byte(`[{"soname":["libz.so.1"],"priority":"required"}]`))
	f.Add([]byte(`[{"soname":[]}]` + "\x00"))
	f.Fuzz(func(t *testing.T, desc []byte) {
		_, _ = parseDlopenJSON(desc, 1, 1)
	})
}

// FuzzGconvAndShebang: any gconv configuration and script first line make
// Resolve fail or succeed, never panic, and never leave the root.
func FuzzGconvAndShebang(f *testing.F) {
	f.Add("alias LATIN1// ISO-8859-1//\nmodule ISO-8859-1// INTERNAL ISO8859-1 1\n", "#!/bin/sh -e\n")
	f.Add("module X// Y// ../../../../etc/passwd 1\n", "#!/usr/bin/env -S ../x\n")
	f.Fuzz(func(t *testing.T, conf, script string) {
		fsys := fstest.MapFS{
			"usr/lib64/gconv/gconv-modules": &fstest.MapFile{Data: []byte(conf)},
			"app/run":                       &fstest.MapFile{Data: []byte(script), Mode: 0o755},
			"bin/sh":                        &fstest.MapFile{Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		}
		c, err := Resolve(fsys, Request{Paths: []Pattern{{Glob: "/app/run"}}, Infer: Infer{Charsets: []string{"LATIN1", "all"}}})
		if err != nil {
			return
		}
		for _, e := range c.Entries {
			if !strings.HasPrefix(e.Path, "/") || strings.Contains(e.Path, "..") {
				t.Fatalf("entry %q outside the root", e.Path)
			}
		}
	})
}

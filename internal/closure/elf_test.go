package closure

import (
	"encoding/binary"
	"strings"
	"testing"
	"testing/fstest"
)

const multiarch = "usr/lib/x86_64-linux-gnu/"

// merged returns a merged-/usr root with a loader reached the way Debian
// reaches it: /lib64 -> usr/lib64, a link into the multiarch dir, and
// /lib -> usr/lib. The loader is a copy of liba.so, which needs nothing.
func merged(t *testing.T, extra fstest.MapFS) fstest.MapFS {
	m := fstest.MapFS{
		"lib":                              lnk("usr/lib"),
		"lib64":                            lnk("usr/lib64"),
		"usr/lib64/ld-linux-x86-64.so.2":   lnk("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		multiarch + "ld-linux-x86-64.so.2": fixture(t, "liba.so", 0o755),
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// loaderEntries are what the interpreter of every fixture executable adds.
var loaderEntries = map[string]string{
	"/lib64":                                 "symlink usr/lib64",
	"/usr/lib64/ld-linux-x86-64.so.2":        "symlink ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	"/" + multiarch + "ld-linux-x86-64.so.2": "file",
}

func with(base map[string]string, more map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// stripSections removes the section header table reference, as sstrip does,
// so only the program headers are left to find DT_NEEDED and PT_INTERP.
func stripSections(f *fstest.MapFile) *fstest.MapFile {
	b := append([]byte(nil), f.Data...)
	// ELF64 little endian: e_shoff at 0x28, e_shnum at 0x3c, e_shstrndx at 0x3e.
	binary.LittleEndian.PutUint64(b[0x28:], 0)
	binary.LittleEndian.PutUint16(b[0x3c:], 0)
	binary.LittleEndian.PutUint16(b[0x3e:], 0)
	return &fstest.MapFile{Data: b, Mode: f.Mode}
}

func TestELF(t *testing.T) {
	liba := fixture(t, "liba.so", 0o644)
	libb := fixture(t, "libb.so", 0o644)
	app := fixture(t, "app", 0o755)
	appRpath := fixture(t, "app-rpath", 0o755)

	origin := merged(t, fstest.MapFS{
		"opt/app/bin/app":           app,
		"opt/app/lib/libb.so.1":     libb,
		multiarch + "liba.so.1":     lnk("liba.so.1.0.0"),
		multiarch + "liba.so.1.0.0": liba,
	})
	originWant := with(loaderEntries, map[string]string{
		"/opt/app/bin/app":                "file",
		"/opt/app/lib/libb.so.1":          "file",
		"/lib":                            "symlink usr/lib",
		"/" + multiarch + "liba.so.1":     "symlink liba.so.1.0.0",
		"/" + multiarch + "liba.so.1.0.0": "file",
	})
	sstripped := merged(t, fstest.MapFS{
		"opt/app/bin/app":           stripSections(app),
		"opt/app/lib/libb.so.1":     libb,
		multiarch + "liba.so.1":     lnk("liba.so.1.0.0"),
		multiarch + "liba.so.1.0.0": liba,
	})

	// liba only next to libb: reachable through an inherited DT_RPATH,
	// not through DT_RUNPATH (which is not inherited).
	inherit := func(exe *fstest.MapFile) fstest.MapFS {
		return merged(t, fstest.MapFS{
			"opt/app/bin/app":       exe,
			"opt/app/lib/libb.so.1": libb,
			"opt/app/lib/liba.so.1": liba,
		})
	}

	// libb both beside the app and in an LD_LIBRARY_PATH dir.
	order := func(exe *fstest.MapFile) fstest.MapFS {
		return merged(t, fstest.MapFS{
			"opt/app/bin/app":       exe,
			"opt/app/lib/libb.so.1": libb,
			"ld/libb.so.1":          libb,
			multiarch + "liba.so.1": liba,
		})
	}

	runCases(t, []resolveCase{{
		summary: "RUNPATH $ORIGIN of a listed file, interpreter and default dirs",
		fsys:    origin,
		req:     paths("/opt/app/bin/app"),
		want:    originWant,
	}, {
		summary: "run-time modules are searched like libraries; missing ones are skipped",
		fsys: merged(t, fstest.MapFS{
			"opt/app/bin/app":               app,
			"opt/app/lib/libb.so.1":         libb,
			multiarch + "liba.so.1":         lnk("liba.so.1.0.0"),
			multiarch + "liba.so.1.0.0":     liba,
			multiarch + "libnss_files.so.2": liba,
		}),
		req: Request{Paths: []Pattern{{Glob: "/opt/app/bin/app"}}, Modules: []string{"libnss_files.so.2", "libnss_nope.so.2"}},
		want: with(originWant, map[string]string{
			"/" + multiarch + "libnss_files.so.2": "file",
		}),
	}, {
		summary: "ELF inside a requested tree is traced",
		fsys:    origin,
		req:     paths("/opt/app/bin"),
		want:    with(originWant, map[string]string{"/opt/app/bin": "dir"}),
	}, {
		summary: "no section headers: PT_DYNAMIC and PT_INTERP still read",
		fsys:    sstripped,
		req:     paths("/opt/app/bin/app"),
		want:    originWant,
	}, {
		summary: "DT_RPATH is inherited by libb",
		fsys:    inherit(appRpath),
		req:     paths("/opt/app/bin/app"),
		want: with(loaderEntries, map[string]string{
			"/opt/app/bin/app":       "file",
			"/opt/app/lib/libb.so.1": "file",
			"/opt/app/lib/liba.so.1": "file",
		}),
	}, {
		summary: "DT_RUNPATH is not inherited",
		fsys:    inherit(app),
		req:     Request{Paths: []Pattern{{Glob: "/opt/app/bin/app", Origin: Origin{File: "smith.yaml", Line: 3, Col: 3, Field: "paths", Index: 0}}}},
		err: "smith.yaml:3:3: paths[0]: /opt/app/lib/libb.so.1 needs liba.so.1, not found in " +
			"/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, /lib, /usr/lib",
	}, {
		summary: "DT_RPATH comes before LD_LIBRARY_PATH",
		fsys:    order(appRpath),
		req:     Request{Paths: []Pattern{{Glob: "/opt/app/bin/app"}}, LibraryPath: []string{"/ld"}},
		want: with(loaderEntries, map[string]string{
			"/opt/app/bin/app":            "file",
			"/opt/app/lib/libb.so.1":      "file",
			"/lib":                        "symlink usr/lib",
			"/" + multiarch + "liba.so.1": "file",
		}),
	}, {
		summary: "LD_LIBRARY_PATH comes before DT_RUNPATH",
		fsys:    order(app),
		req:     Request{Paths: []Pattern{{Glob: "/opt/app/bin/app"}}, LibraryPath: []string{"/ld"}},
		want: with(loaderEntries, map[string]string{
			"/opt/app/bin/app":            "file",
			"/ld/libb.so.1":               "file",
			"/lib":                        "symlink usr/lib",
			"/" + multiarch + "liba.so.1": "file",
		}),
	}, {
		summary: "chain through 0644 libraries (libselinux -> libpcre2)",
		fsys: merged(t, fstest.MapFS{
			"usr/bin/ls":            app,
			multiarch + "libb.so.1": libb,
			multiarch + "liba.so.1": liba,
		}),
		req: paths("/usr/bin/ls"),
		want: with(loaderEntries, map[string]string{
			"/usr/bin/ls":                 "file",
			"/lib":                        "symlink usr/lib",
			"/" + multiarch + "libb.so.1": "file",
			"/" + multiarch + "liba.so.1": "file",
		}),
	}, {
		summary: "ld.so.conf with include, comments and hwcap",
		fsys: merged(t, fstest.MapFS{
			"usr/bin/app":                lnk("/opt/x/app"),
			"opt/x/app":                  app,
			"etc/ld.so.conf":             txt("# comment\nhwcap 0 nosegneg\ninclude ld.so.conf.d/*.conf\n"),
			"etc/ld.so.conf.d/libs.conf": txt("/opt/libs # trailing comment\n"),
			"etc/ld.so.conf.d/a.txt":     txt("/opt/wrong\n"),
			"opt/wrong/libb.so.1":        libb,
			"opt/libs/libb.so.1":         libb,
			"opt/libs/liba.so.1":         liba,
		}),
		req: paths("/usr/bin/app"),
		want: with(loaderEntries, map[string]string{
			"/usr/bin/app":        "symlink /opt/x/app",
			"/opt/x/app":          "file",
			"/opt/libs/libb.so.1": "file",
			"/opt/libs/liba.so.1": "file",
		}),
	}, {
		summary: "wrong class, non-ELF and dangling candidates are skipped",
		fsys: merged(t, fstest.MapFS{
			"lib":                            dir(),
			"lib/x86_64-linux-gnu/liba.so.1": fixture(t, "liba32.so", 0o644),
			multiarch + "liba.so.1":          lnk("nowhere"),
			"ld/liba.so.1":                   txt("INPUT(liba.so.1.0)"),
			"usr/lib64/liba.so.1":            liba,
			"usr/bin/app":                    app,
			"usr/lib/libb.so.1":              libb,
		}),
		req: Request{Paths: []Pattern{{Glob: "/usr/bin/app"}}, LibraryPath: []string{"ld"}},
		want: with(loaderEntries, map[string]string{
			"/usr/bin/app":         "file",
			"/usr/lib/libb.so.1":   "file",
			"/usr/lib64/liba.so.1": "file",
		}),
	}, {
		summary: "excluded library is skipped without error",
		fsys:    origin,
		req: Request{
			Paths:    []Pattern{{Glob: "/opt/app/bin/app"}},
			Excludes: []Pattern{{Glob: "/usr/lib/x86_64-linux-gnu/liba.so.1.0.0"}},
		},
		want: with(loaderEntries, map[string]string{
			"/opt/app/bin/app":       "file",
			"/opt/app/lib/libb.so.1": "file",
		}),
	}, {
		summary: "library cycle terminates",
		fsys: merged(t, fstest.MapFS{
			"usr/bin/app":           app,
			multiarch + "libb.so.1": libb,
			multiarch + "liba.so.1": libb, // needs liba.so.1: itself
		}),
		req: paths("/usr/bin/app"),
		want: with(loaderEntries, map[string]string{
			"/usr/bin/app":                "file",
			"/lib":                        "symlink usr/lib",
			"/" + multiarch + "libb.so.1": "file",
			"/" + multiarch + "liba.so.1": "file",
		}),
	}, {
		summary: "missing interpreter",
		fsys: fstest.MapFS{
			"usr/bin/app":       app,
			"usr/lib/libb.so.1": libb,
			"usr/lib/liba.so.1": liba,
		},
		req: paths("/usr/bin/app"),
		err: "/usr/bin/app needs /lib64/ld-linux-x86-64.so.2, not found in /lib64/ld-linux-x86-64.so.2",
	}})
}

func TestELFReasons(t *testing.T) {
	c, err := Resolve(merged(t, fstest.MapFS{
		"usr/bin/app":           fixture(t, "app", 0o755),
		multiarch + "libb.so.1": fixture(t, "libb.so", 0o644),
		multiarch + "liba.so.1": fixture(t, "liba.so", 0o644),
	}), Request{Paths: []Pattern{{Glob: "/usr/bin/app", Origin: Origin{File: "smith.yaml", Line: 1, Col: 1, Field: "paths", Index: 0}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/usr/bin/app":                           "requested by paths[0] (/usr/bin/app)",
		"/lib":                                   "symlink on the way to /lib/x86_64-linux-gnu/libb.so.1; symlink on the way to /lib/x86_64-linux-gnu/liba.so.1",
		"/" + multiarch + "libb.so.1":            "NEEDED by /usr/bin/app (libb.so.1)",
		"/" + multiarch + "liba.so.1":            "NEEDED by /usr/lib/x86_64-linux-gnu/libb.so.1 (liba.so.1)",
		"/lib64":                                 "symlink on the way to /lib64/ld-linux-x86-64.so.2",
		"/" + multiarch + "ld-linux-x86-64.so.2": "interpreter of /usr/bin/app",
	}
	for _, e := range c.Entries {
		if w, ok := want[e.Path]; ok {
			if got := strings.Join(e.Reasons, "; "); got != w {
				t.Errorf("%s: reasons %q, want %q", e.Path, got, w)
			}
		}
	}
	if ld := c.Entries[0]; ld.Path != "/lib" || ld.Mode.Type() == 0 {
		t.Errorf("first entry %+v, want the /lib symlink with its mode", ld)
	}
}

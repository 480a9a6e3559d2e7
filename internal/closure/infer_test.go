package closure

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// cc compiles C source into an ELF object at test time, with no C library:
// each fixture names exactly the symbols it imports and defines.
func cc(t *testing.T, src string, args ...string) *fstest.MapFile {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: needed to build the ELF fixtures for inference tests")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "x.c")
	out := filepath.Join(dir, "x.out")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gcc, append([]string{"-Os", "-nostdlib", "-fPIC", "-Wl,--allow-shlib-undefined", "-o", out, c}, args...)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return &fstest.MapFile{Data: b, Mode: 0o755}
}

// fakeLibc is a libc.so.6 that defines what glibc's does for inference;
// builtin adds the markers of glibc 2.34+ (files and dns built in).
func fakeLibc(t *testing.T, builtin bool) *fstest.MapFile {
	src := "const char *gnu_get_libc_version(void) { return \"2.31\"; }\nint getpwnam; int getpwuid; int getgrouplist; int getaddrinfo; int iconv_open; int neutral;\n"
	if builtin {
		src += "int _nss_files_getpwnam_r; int _nss_dns_gethostbyname4_r;\n"
	}
	return cc(t, src, "-shared", "-Wl,-soname,libc.so.6")
}

// program builds an executable that calls the given libc functions.
func program(t *testing.T, libc *fstest.MapFile, calls ...string) *fstest.MapFile {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libc.so.6")
	if err := os.WriteFile(lib, libc.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, c := range calls {
		src.WriteString("extern int " + c + "(void);\n")
	}
	src.WriteString("void _start(void) {\n")
	for _, c := range calls {
		src.WriteString("  " + c + "();\n")
	}
	src.WriteString("  for (;;) {}\n}\n")
	return cc(t, src.String(), "-pie", "-Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2", lib)
}

func sharedLib(t *testing.T, soname string) *fstest.MapFile {
	return cc(t, "int f_"+strings.NewReplacer(".", "_", "-", "_").Replace(soname)+"(void) { return 0; }\n", "-shared", "-Wl,-soname,"+soname)
}

// glibcRoot is a root with a fake glibc and the NSS modules of an old glibc.
func glibcRoot(t *testing.T, builtin bool, prog *fstest.MapFile) fstest.MapFS {
	return fstest.MapFS{
		"lib64":                          lnk("usr/lib64"),
		"usr/lib64/ld-linux-x86-64.so.2": sharedLib(t, "ld-linux-x86-64.so.2"),
		"usr/lib64/libc.so.6":            fakeLibc(t, builtin),
		"usr/lib64/libnss_files.so.2":    sharedLib(t, "libnss_files.so.2"),
		"usr/lib64/libnss_dns.so.2":      sharedLib(t, "libnss_dns.so.2"),
		"usr/bin/prog":                   prog,
	}
}

func reasonsOf(c *Closure, p string) string {
	for _, e := range c.Entries {
		if e.Path == p {
			return strings.Join(e.Reasons, "; ")
		}
	}
	return ""
}

func entryPaths(c *Closure) []string {
	var out []string
	for _, e := range c.Entries {
		out = append(out, e.Path)
	}
	sort.Strings(out)
	return out
}

func TestInferNSS(t *testing.T) {
	old := fakeLibc(t, false)
	cases := []struct {
		summary   string
		builtin   bool
		calls     []string
		nss       Switch
		wantNSS   bool
		wantMods  []string // modules expected in the closure
		wantNoMod []string
		reason    string // expected in the first wanted module's reasons
		note      string
	}{{
		summary: "no lookup: nothing", calls: []string{"neutral"},
		wantNoMod: []string{"/usr/lib64/libnss_files.so.2", "/usr/lib64/libnss_dns.so.2"},
	}, {
		summary: "user lookup on an old glibc: files only", calls: []string{"getpwnam"}, wantNSS: true,
		wantMods:  []string{"/usr/lib64/libnss_files.so.2"},
		wantNoMod: []string{"/usr/lib64/libnss_dns.so.2"},
		reason:    "NSS module for getpwnam, used by /usr/bin/prog",
	}, {
		summary: "host lookup on an old glibc: files and dns", calls: []string{"getaddrinfo"}, wantNSS: true,
		wantMods: []string{"/usr/lib64/libnss_files.so.2", "/usr/lib64/libnss_dns.so.2"},
		reason:   "NSS module for getaddrinfo, used by /usr/bin/prog",
	}, {
		summary: "glibc 2.34+: nsswitch.conf only", builtin: true, calls: []string{"getaddrinfo", "getpwuid"}, wantNSS: true,
		wantNoMod: []string{"/usr/lib64/libnss_files.so.2", "/usr/lib64/libnss_dns.so.2"},
	}, {
		summary: "nss off: nothing, with a note", calls: []string{"getgrouplist"}, nss: Off,
		wantNoMod: []string{"/usr/lib64/libnss_files.so.2"},
		note:      "nss: false, but /usr/bin/prog calls getgrouplist",
	}}
	for _, tc := range cases {
		t.Run(tc.summary, func(t *testing.T) {
			libc := old
			if tc.builtin {
				libc = fakeLibc(t, true)
			}
			root := glibcRoot(t, tc.builtin, program(t, libc, tc.calls...))
			c, err := Resolve(root, Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: Infer{NSS: tc.nss}})
			if err != nil {
				t.Fatal(err)
			}
			if c.NSS != tc.wantNSS {
				t.Errorf("NSS = %v, want %v", c.NSS, tc.wantNSS)
			}
			have := strings.Join(entryPaths(c), " ")
			for _, m := range tc.wantMods {
				if !strings.Contains(have, m) {
					t.Errorf("%s missing from %s", m, have)
				}
			}
			for _, m := range tc.wantNoMod {
				if strings.Contains(have, m) {
					t.Errorf("%s should not be in %s", m, have)
				}
			}
			if tc.reason != "" {
				if got := reasonsOf(c, tc.wantMods[len(tc.wantMods)-1]); !strings.Contains(got, tc.reason) {
					t.Errorf("reasons %q, want %q", got, tc.reason)
				}
			}
			if tc.note != "" && !strings.Contains(strings.Join(c.Notes, "\n"), tc.note) {
				t.Errorf("notes %q, want %q", c.Notes, tc.note)
			}
		})
	}
}

// TestInferNSSFromLibrary: the lookup is in a library, not the program.
func TestInferNSSFromLibrary(t *testing.T) {
	libc := fakeLibc(t, false)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "libc.so.6"), libc.Data, 0o755)
	lib := cc(t, "extern int getaddrinfo(void);\nint fetch(void) { return getaddrinfo(); }\n", "-shared", "-Wl,-soname,libfetch.so.1", filepath.Join(dir, "libc.so.6"))
	os.WriteFile(filepath.Join(dir, "libfetch.so.1"), lib.Data, 0o755)
	prog := cc(t, "extern int fetch(void);\nvoid _start(void) { fetch(); for (;;) {} }\n", "-pie",
		"-Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2", filepath.Join(dir, "libfetch.so.1"), filepath.Join(dir, "libc.so.6"))
	root := glibcRoot(t, false, prog)
	root["usr/lib64/libfetch.so.1"] = lib
	c, err := Resolve(root, paths("/usr/bin/prog"))
	if err != nil {
		t.Fatal(err)
	}
	if got := reasonsOf(c, "/usr/lib64/libnss_dns.so.2"); got != "NSS module for getaddrinfo, used by /usr/lib64/libfetch.so.1" {
		t.Errorf("reasons of libnss_dns: %q", got)
	}
}

const gconvModules = `# test config
alias	LATIN1//		ISO-8859-1//
alias	ISO8859-1//		ISO-8859-1//
module	ISO-8859-1//		INTERNAL		ISO8859-1	1
module	INTERNAL		ISO-8859-1//		ISO8859-1	1
alias	UTF16//			UTF-16//
module	UTF-16//		INTERNAL		UTF-16		1
module	INTERNAL		UTF-16//		UTF-16		1
module	EUC-JP//		INTERNAL		EUC-JP		1
module	INTERNAL		EUC-JP//		EUC-JP		1
`

func gconvRoot(t *testing.T, prog *fstest.MapFile) fstest.MapFS {
	root := glibcRoot(t, true, prog)
	root["usr/lib64/gconv/gconv-modules"] = txt(gconvModules)
	root["usr/lib64/gconv/gconv-modules.cache"] = txt("cache")
	root["usr/lib64/gconv/ISO8859-1.so"] = sharedLib(t, "ISO8859-1.so")
	root["usr/lib64/gconv/UTF-16.so"] = sharedLib(t, "UTF-16.so")
	root["usr/lib64/gconv/EUC-JP.so"] = cc(t, "extern int jis(void);\nint g(void) { return jis(); }\n", "-shared", "-Wl,-soname,EUC-JP.so", "-Wl,--no-as-needed", "-L"+t.TempDir())
	return root
}

func TestInferGconv(t *testing.T) {
	libc := fakeLibc(t, true)
	t.Run("iconv_open: the configuration and the default charsets' modules", func(t *testing.T) {
		c, err := Resolve(gconvRoot(t, program(t, libc, "iconv_open")), paths("/usr/bin/prog"))
		if err != nil {
			t.Fatal(err)
		}
		have := strings.Join(entryPaths(c), " ")
		for _, want := range []string{"/usr/lib64/gconv/ISO8859-1.so", "/usr/lib64/gconv/UTF-16.so",
			"/usr/lib64/gconv/gconv-modules", "/usr/lib64/gconv/gconv-modules.cache"} {
			if !strings.Contains(have, want) {
				t.Errorf("%s missing: %s", want, have)
			}
		}
		if strings.Contains(have, "EUC-JP.so") {
			t.Errorf("EUC-JP is not a default charset: %s", have)
		}
		if got := reasonsOf(c, "/usr/lib64/gconv/ISO8859-1.so"); got != "gconv module for ISO-8859-1, used by /usr/bin/prog (iconv_open)" {
			t.Errorf("reason %q", got)
		}
		if got := reasonsOf(c, "/usr/lib64/gconv/gconv-modules"); got != "gconv configuration, used by /usr/bin/prog (iconv_open)" {
			t.Errorf("reason %q", got)
		}
	})
	t.Run("charsets by alias", func(t *testing.T) {
		c, err := Resolve(gconvRoot(t, program(t, libc, "iconv_open")),
			Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: Infer{Charsets: []string{"latin1", "UTF-8"}}})
		if err != nil {
			t.Fatal(err)
		}
		have := strings.Join(entryPaths(c), " ")
		if !strings.Contains(have, "ISO8859-1.so") || strings.Contains(have, "UTF-16.so") {
			t.Errorf("closure %s", have)
		}
		if len(c.Notes) != 0 {
			t.Errorf("UTF-8 is built in, want no notes, got %q", c.Notes)
		}
	})
	t.Run("charsets all", func(t *testing.T) {
		c, err := Resolve(gconvRoot(t, program(t, libc, "iconv_open")),
			Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: Infer{Charsets: []string{CharsetsAll}}})
		if err != nil {
			t.Fatal(err)
		}
		have := strings.Join(entryPaths(c), " ")
		for _, want := range []string{"EUC-JP.so", "gconv-modules.cache", "/usr/lib64/gconv/gconv-modules"} {
			if !strings.Contains(have, want) {
				t.Errorf("%s missing: %s", want, have)
			}
		}
	})
	t.Run("unknown charset is a note", func(t *testing.T) {
		c, err := Resolve(gconvRoot(t, program(t, libc, "iconv_open")),
			Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: Infer{Charsets: []string{"KLINGON"}}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(c.Notes, "\n"), "charset KLINGON: no gconv module") {
			t.Errorf("notes %q", c.Notes)
		}
	})
	for _, tc := range []struct {
		summary string
		calls   []string
		infer   Infer
	}{
		{"no iconv_open: nothing", []string{"getpwnam"}, Infer{}},
		{"gconv off", []string{"iconv_open"}, Infer{Gconv: Off}},
	} {
		t.Run(tc.summary, func(t *testing.T) {
			c, err := Resolve(gconvRoot(t, program(t, libc, tc.calls...)), Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: tc.infer})
			if err != nil {
				t.Fatal(err)
			}
			if have := strings.Join(entryPaths(c), " "); strings.Contains(have, "gconv") {
				t.Errorf("closure %s", have)
			}
		})
	}
}

func TestInferCACerts(t *testing.T) {
	libc := fakeLibc(t, true)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "libssl.so.3"), sharedLib(t, "libssl.so.3").Data, 0o755)
	prog := cc(t, "extern int f_libssl_so_3(void);\nvoid _start(void) { f_libssl_so_3(); for (;;) {} }\n", "-pie",
		"-Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2", filepath.Join(dir, "libssl.so.3"))
	el := func() fstest.MapFS {
		root := glibcRoot(t, true, prog)
		root["usr/lib64/libc.so.6"] = libc
		root["usr/lib64/libssl.so.3"] = sharedLib(t, "libssl.so.3")
		root["etc/pki/tls/certs/ca-bundle.crt"] = lnk("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")
		root["etc/pki/tls/cert.pem"] = lnk("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")
		root["etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"] = txt("CERTS")
		return root
	}
	c, err := Resolve(el(), paths("/usr/bin/prog"))
	if err != nil {
		t.Fatal(err)
	}
	got := dump(c)
	for p, want := range map[string]string{
		"/etc/pki/tls/certs/ca-bundle.crt":                  "symlink /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/pki/tls/cert.pem":                             "symlink /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem": "file",
	} {
		if got[p] != want {
			t.Errorf("%s = %q, want %q", p, got[p], want)
		}
	}
	if r := reasonsOf(c, "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"); !strings.Contains(r, "CA bundle for TLS, read by libssl.so.3 (/usr/lib64/libssl.so.3)") {
		t.Errorf("reason %q", r)
	}

	c, err = Resolve(el(), Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: Infer{CACerts: Off}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dump(c)["/etc/pki/tls/cert.pem"]; ok {
		t.Error("cacerts off still brought the bundle")
	}

	// No TLS library: no bundle.
	root := el()
	root["usr/bin/prog"] = program(t, libc, "getpwnam")
	c, err = Resolve(root, paths("/usr/bin/prog"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dump(c)["/etc/pki/tls/cert.pem"]; ok {
		t.Error("a program without TLS got the CA bundle")
	}
}

func TestShebang(t *testing.T) {
	libc := fakeLibc(t, true)
	sh := program(t, libc)
	root := fstest.MapFS{
		"bin":                            lnk("usr/bin"),
		"usr/lib64/ld-linux-x86-64.so.2": sharedLib(t, "ld-linux-x86-64.so.2"),
		"lib64":                          lnk("usr/lib64"),
		"usr/bin/sh":                     sh,
		"usr/bin/env":                    sh,
		"usr/local/bin/python3":          sh,
		"app/run.sh":                     exe("#!/bin/sh -e\necho hi\n"),
		"app/tool.py":                    exe("#!/usr/bin/env -S python3 -u\nprint(1)\n"),
		"app/unset.py":                   exe("#!/usr/bin/env -S -u HOME python3\n"),
		"app/missing.sh":                 exe("#!/bin/zsh\n"),
		"app/missing-env.sh":             exe("#!/usr/bin/env ruby\n"),
		"app/tree/plain.txt":             txt("#!/bin/sh\n"),
		"app/tree/x.sh":                  exe("#!/usr/bin/env python3\n"),
		"app/data":                       txt("no shebang"),
	}
	c, err := Resolve(root, paths("/app/run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	got := dump(c)
	if got["/bin"] != "symlink usr/bin" || got["/usr/bin/sh"] != "file" {
		t.Errorf("closure %v", got)
	}
	if r := reasonsOf(c, "/usr/bin/sh"); r != "interpreter of /app/run.sh (#!/bin/sh -e)" {
		t.Errorf("reason %q", r)
	}

	c, err = Resolve(root, Request{Paths: []Pattern{{Glob: "/app/tool.py"}}, Infer: Infer{Path: []string{"/usr/local/bin", "/usr/bin"}}})
	if err != nil {
		t.Fatal(err)
	}
	got = dump(c)
	if got["/usr/bin/env"] != "file" || got["/usr/local/bin/python3"] != "file" {
		t.Errorf("env script closure %v", got)
	}
	if r := reasonsOf(c, "/usr/local/bin/python3"); r != "interpreter of /app/tool.py (#!/usr/bin/env python3, found in PATH)" {
		t.Errorf("reason %q", r)
	}

	c, err = Resolve(root, Request{Paths: []Pattern{{Glob: "/app/unset.py"}}, Infer: Infer{Path: []string{"/usr/local/bin"}}})
	if err != nil || dump(c)["/usr/local/bin/python3"] != "file" {
		t.Errorf("env -u HOME python3: %v %v", err, dump(c))
	}

	// A tree: only executable scripts bring interpreters.
	c, err = Resolve(root, Request{Paths: []Pattern{{Glob: "/app/tree"}}, Infer: Infer{Path: []string{"/usr/local/bin"}}})
	if err != nil {
		t.Fatal(err)
	}
	got = dump(c)
	if got["/usr/local/bin/python3"] != "file" {
		t.Errorf("tree script's interpreter missing: %v", got)
	}
	if _, ok := got["/usr/bin/sh"]; ok {
		t.Errorf("a non-executable file in a tree brought its interpreter: %v", got)
	}

	for p, want := range map[string]string{
		"/app/missing.sh":     "/app/missing.sh needs interpreter /bin/zsh",
		"/app/missing-env.sh": "/app/missing-env.sh needs interpreter ruby (#!/usr/bin/env ruby)",
	} {
		_, err := Resolve(root, Request{Paths: []Pattern{{Glob: p, Origin: Origin{File: "smith.yaml", Line: 3, Col: 3, Field: "paths", Index: 0}}}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "smith.yaml:3:3: paths[0]: ") {
			t.Errorf("%s: err %v, want %q", p, err, want)
		}
	}

	if c, err := Resolve(root, paths("/app/data")); err != nil || len(c.Entries) != 1 {
		t.Errorf("a plain file: %v %v", c, err)
	}
}

// TestDlopenEdges: .note.dlopen libraries join the closure up to the
// configured priority, the first alternative found wins, and a required
// library that is nowhere is an error.
func TestDlopenEdges(t *testing.T) {
	note := dlopenNoteC(`[{"soname":["libzstd.so.2","libzstd.so.1"],"feature":"zstd","priority":"required"},` +
		`{"soname":["liblz4.so.1"],"feature":"lz4"},{"soname":["libbz2.so.1"],"priority":"suggested"}]`)
	prog := cc(t, "void _start(void) { for (;;) {} }\n"+note, "-pie", "-Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2")
	root := func() fstest.MapFS {
		return fstest.MapFS{
			"lib64":                          lnk("usr/lib64"),
			"usr/lib64/ld-linux-x86-64.so.2": sharedLib(t, "ld-linux-x86-64.so.2"),
			"usr/bin/prog":                   prog,
			"usr/lib64/libzstd.so.1":         sharedLib(t, "libzstd.so.1"),
			"usr/lib64/liblz4.so.1":          sharedLib(t, "liblz4.so.1"),
			"usr/lib64/libbz2.so.1":          sharedLib(t, "libbz2.so.1"),
		}
	}
	for _, tc := range []struct {
		level DlopenPriority
		want  []string
	}{
		{"", []string{"/usr/lib64/libzstd.so.1"}},
		{DlopenRecommended, []string{"/usr/lib64/liblz4.so.1", "/usr/lib64/libzstd.so.1"}},
		{DlopenSuggested, []string{"/usr/lib64/libbz2.so.1", "/usr/lib64/liblz4.so.1", "/usr/lib64/libzstd.so.1"}},
		{DlopenNone, nil},
	} {
		c, err := Resolve(root(), Request{Paths: []Pattern{{Glob: "/usr/bin/prog"}}, Infer: Infer{Dlopen: tc.level}})
		if err != nil {
			t.Fatalf("%q: %v", tc.level, err)
		}
		var libs []string
		for _, p := range entryPaths(c) {
			if strings.HasPrefix(p, "/usr/lib64/lib") {
				libs = append(libs, p)
			}
		}
		if strings.Join(libs, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: libraries %q, want %q", tc.level, libs, tc.want)
		}
		if len(c.Dlopen) != 3 || c.Dlopen[0].Found != "libzstd.so.1" {
			t.Errorf("%q: dlopen record %+v", tc.level, c.Dlopen)
		}
		if tc.level == "" {
			if r := reasonsOf(c, "/usr/lib64/libzstd.so.1"); r != "dlopen()ed by /usr/bin/prog (libzstd.so.1, .note.dlopen required, feature zstd)" {
				t.Errorf("reason %q", r)
			}
			var b strings.Builder
			if err := c.Why(&b); err != nil || !strings.Contains(b.String(), "recommended feature lz4: liblz4.so.1 (found liblz4.so.1, left out (dlopen level))") {
				t.Errorf("Why:\n%s", b.String())
			}
		}
	}
	r := root()
	delete(r, "usr/lib64/libzstd.so.1")
	_, err := Resolve(r, Request{Paths: []Pattern{{Glob: "/usr/bin/prog", Origin: Origin{File: "smith.yaml", Line: 2, Col: 3, Field: "paths", Index: 0}}}})
	if err == nil || !strings.Contains(err.Error(), "smith.yaml:2:3: paths[0]: /usr/bin/prog needs libzstd.so.2 or libzstd.so.1 (required by .note.dlopen)") {
		t.Errorf("missing required dlopen library: %v", err)
	}
}

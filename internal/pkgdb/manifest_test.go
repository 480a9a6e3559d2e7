package pkgdb

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
)

func imageFiles(paths ...string) []File {
	var out []File
	for _, p := range paths {
		out = append(out, File{Path: p})
	}
	return out
}

func TestRPM(t *testing.T) {
	files := strings.Join([]string{
		"smith-hello-0:1.0-1.el9.x86_64\t/usr/bin/smith-hello",
		"smith-libgreet-0:1.0-1.el9.x86_64\t/usr/lib64/libgreet.so.1",
		"smith-libgreet-0:1.0-1.el9.x86_64\t/usr/lib64/libgreet.so.1.0.0",
		"smith-sh-0:1.0-1.el9.x86_64\t/bin/sh",
		"",
	}, "\n")
	packages := "smith-hello-0:1.0-1.el9.x86_64\nsmith-libgreet-0:1.0-1.el9.x86_64\nsmith-sh-0:1.0-1.el9.x86_64\nlib-with-dash-2:3.1-4.el9.noarch\n"
	db, err := ParseRPM(files, packages, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := Build(imageFiles("/usr/lib64/libgreet.so.1.0.0", "/usr/bin/smith-hello", "/etc/passwd", "/usr/lib64/libgreet.so.1", "/read/data"), db)
	if len(m.Files) != 5 || m.Files[0].Path != "/etc/passwd" || m.Files[0].Package != "" || m.Files[2].Package != "smith-hello-0:1.0-1.el9.x86_64" {
		t.Errorf("files %+v", m.Files)
	}
	m.Files = nil
	got, _ := json.Marshal(m)
	want := `{"packages":[` +
		`{"type":"rpm","id":"smith-hello-0:1.0-1.el9.x86_64","name":"smith-hello","epoch":"0","version":"1.0-1.el9","arch":"x86_64","files":["/usr/bin/smith-hello"]},` +
		`{"type":"rpm","id":"smith-libgreet-0:1.0-1.el9.x86_64","name":"smith-libgreet","epoch":"0","version":"1.0-1.el9","arch":"x86_64","files":["/usr/lib64/libgreet.so.1","/usr/lib64/libgreet.so.1.0.0"]}],` +
		`"unused":["lib-with-dash-2:3.1-4.el9.noarch","smith-sh-0:1.0-1.el9.x86_64"],"unowned":["/etc/passwd","/read/data"]}`
	if string(got) != want {
		t.Errorf("manifest\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{"garbage line\n", "no-epoch-1.0-1.x86_64\t/x\n"} {
		if _, err := ParseRPM(bad, "", nil); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// TestRPMThroughLinks: EL's glibc lists /lib64/libc.so.6; /lib64 is
// filesystem's link to usr/lib64 and the image holds /usr/lib64/libc.so.6.
func TestRPMThroughLinks(t *testing.T) {
	files := "filesystem-0:3.16-2.el9.x86_64\t/lib64\nglibc-0:2.34-100.el9.x86_64\t/lib64/libc.so.6\n" +
		"glibc-0:2.34-100.el9.x86_64\t/lib64/ld-linux-x86-64.so.2\n"
	canon := func(p string) string {
		if strings.HasPrefix(p, "/lib64/") {
			return "/usr" + p
		}
		return p
	}
	db, err := ParseRPM(files, "filesystem-0:3.16-2.el9.x86_64\nglibc-0:2.34-100.el9.x86_64\n", canon)
	if err != nil {
		t.Fatal(err)
	}
	m := Build(imageFiles("/lib64", "/usr/lib64/libc.so.6", "/usr/lib64/ld-linux-x86-64.so.2", "/etc/passwd"), db)
	got, _ := json.Marshal(m.Packages)
	want := `[{"type":"rpm","id":"filesystem-0:3.16-2.el9.x86_64","name":"filesystem","epoch":"0","version":"3.16-2.el9","arch":"x86_64","files":["/lib64"]},` +
		`{"type":"rpm","id":"glibc-0:2.34-100.el9.x86_64","name":"glibc","epoch":"0","version":"2.34-100.el9","arch":"x86_64","files":["/usr/lib64/ld-linux-x86-64.so.2","/usr/lib64/libc.so.6"]}]`
	if string(got) != want {
		t.Errorf("packages\n got %s\nwant %s", got, want)
	}
	if len(m.Unowned) != 1 || m.Unowned[0] != "/etc/passwd" || len(m.Unused) != 0 {
		t.Errorf("unowned %q, unused %q", m.Unowned, m.Unused)
	}
	db.CountInstalled(func(p string) bool { return p != "/lib64" })
	m = Build(imageFiles("/usr/lib64/libc.so.6"), db)
	if len(m.Packages) != 1 || m.Packages[0].InstalledFiles != 2 || len(m.Packages[0].Files) != 1 {
		t.Errorf("partial glibc: %+v", m.Packages)
	}
}

func TestDpkg(t *testing.T) {
	status := `Package: coreutils
Status: install ok installed
Architecture: amd64
Version: 9.1-1
Description: GNU core utilities
 with a continuation line: that has a colon

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u7

Package: removed
Status: deinstall ok config-files
Architecture: amd64
Version: 1
`
	lists := map[string]string{
		"coreutils.list":     "/.\n/bin\n/bin/cat\n/usr/share/doc/coreutils\n",
		"libc6:amd64.list":   "/lib/x86_64-linux-gnu/libc.so.6\n",
		"removed.list":       "/usr/bin/removed\n",
		"not-in-status.list": "/x\n",
	}
	// /bin and /lib are links to usr/ in the image.
	canon := func(p string) string {
		for _, d := range []string{"/bin/", "/lib/"} {
			if strings.HasPrefix(p, d) {
				return "/usr" + p
			}
		}
		return p
	}
	db, err := ParseDpkg(status, lists, canon)
	if err != nil {
		t.Fatal(err)
	}
	m := Build(imageFiles("/usr/bin/cat", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/removed"), db)
	if len(m.Packages) != 2 || m.Packages[0].ID != "coreutils_9.1-1_amd64" || m.Packages[1].ID != "libc6_2.36-9+deb12u7_amd64" ||
		m.Packages[1].Files[0] != "/usr/lib/x86_64-linux-gnu/libc.so.6" {
		t.Errorf("packages = %+v", m.Packages)
	}
	if len(m.Unowned) != 1 || m.Unowned[0] != "/usr/bin/removed" || len(m.Unused) != 0 {
		t.Errorf("unowned %v unused %v", m.Unowned, m.Unused)
	}
}

func TestSPDX(t *testing.T) {
	m := &Manifest{
		Distro: &Distro{ID: "debian", VersionID: "12"},
		Packages: []Package{
			{Type: "deb", ID: "libc6_2.36-9+deb12u7_amd64", Name: "libc6", Version: "2.36-9+deb12u7", Arch: "amd64",
				Files: []string{"/x"}, InstalledFiles: 120},
			{Type: "rpm", ID: "bash-1:5.1-6.el9.x86_64", Name: "bash", Epoch: "1", Version: "5.1-6.el9", Arch: "x86_64",
				Files: []string{"/y"}, InstalledFiles: 1},
		},
		Files: []File{
			{Path: "/etc/passwd", SHA256: strings.Repeat("a", 64), SHA1: strings.Repeat("b", 40)},
			{Path: "/x", SHA256: strings.Repeat("c", 64), SHA1: strings.Repeat("d", 40), Package: "libc6_2.36-9+deb12u7_amd64"},
			{Path: "/y", Link: "x", Package: "bash-1:5.1-6.el9.x86_64"},
		},
		Sources: []Source{
			{Kind: "installer", Name: "registry.example/dnf:9", Digest: "sha256:" + strings.Repeat("e", 64)},
			{Kind: "repository", Name: "https://repo.example/el9/"},
			{Kind: "image", Name: "docker.io/library/debian:12"},
		},
	}
	created := time.Unix(1700000000, 0)
	a, err := SPDX(m, "smith-v1", created)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SPDX(m, "smith-v1", created)
	if string(a) != string(b) {
		t.Error("SPDX output is not deterministic")
	}
	for _, want := range []string{
		`"spdxVersion": "SPDX-2.3"`, `"created": "2023-11-14T22:13:20Z"`, `"Tool: smith-v1"`,
		`"referenceLocator": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64\u0026distro=debian-12"`,
		`"referenceLocator": "pkg:rpm/debian/bash@5.1-6.el9?arch=x86_64\u0026distro=debian-12\u0026epoch=1"`,
		`"comment": "partial: the image ships 1 of the package's 120 files"`,
		`"comment": "the image ships all 1 of the package's files"`,
		`"SPDXID": "SPDXRef-Package-deb-libc6-2.36-9-deb12u7-amd64"`,
	} {
		if !strings.Contains(string(a), want) {
			t.Errorf("SPDX lacks %s:\n%s", want, a)
		}
	}

	// A real SPDX reader and validator: every relationship names an
	// element, every file has SHA-1 and SHA-256, each file is contained
	// once, by its package or the image.
	doc, err := spdxjson.Read(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("tools-golang cannot read the document: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Errorf("tools-golang: %v", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || len(doc.Packages) != 6 || len(doc.Files) != 3 {
		t.Errorf("read back %s, %d packages, %d files", doc.SPDXVersion, len(doc.Packages), len(doc.Files))
	}
	contained := map[string]string{}
	for _, r := range doc.Relationships {
		if r.Relationship == "CONTAINS" && strings.HasPrefix(string(r.RefB.ElementRefID), "File-") {
			contained[string(r.RefB.ElementRefID)] = string(r.RefA.ElementRefID)
		}
	}
	for _, f := range doc.Files {
		algos := map[string]bool{}
		for _, c := range f.Checksums {
			algos[string(c.Algorithm)] = c.Value != ""
		}
		if !algos["SHA1"] || !algos["SHA256"] {
			t.Errorf("%s checksums %+v", f.FileName, f.Checksums)
		}
		if contained[string(f.FileSPDXIdentifier)] == "" {
			t.Errorf("%s is contained by nothing", f.FileName)
		}
	}
	if contained["File-1"] != "Image" || contained["File-2"] != "Package-deb-libc6-2.36-9-deb12u7-amd64" {
		t.Errorf("containment %v", contained)
	}
	rels := map[string]bool{}
	for _, r := range doc.Relationships {
		rels[string(r.RefA.ElementRefID)+" "+r.Relationship+" "+string(r.RefB.ElementRefID)] = true
	}
	for _, want := range []string{"DOCUMENT DESCRIBES Image", "Source-1-installer BUILD_TOOL_OF Image",
		"Image GENERATED_FROM Source-2-repository", "Image GENERATED_FROM Source-3-image"} {
		if !rels[want] {
			t.Errorf("no relationship %q in %v", want, rels)
		}
	}
	if ParseOSRelease("NAME=\"Debian\"\nID=debian\nVERSION_ID=\"12\"\n").VersionID != "12" || ParseOSRelease("") != nil {
		t.Error("ParseOSRelease")
	}
}

// TestDirectoriesOwnNoLinks: every package lists its parent directories;
// when such a directory is a symlink in the image (/lib -> usr/lib), the
// link is not the package's file.
func TestDirectoriesOwnNoLinks(t *testing.T) {
	status := "Package: apt\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.6.1\n\n" +
		"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36\n"
	lists := map[string]string{
		"apt.list":         "/.\n/lib\n/lib/systemd\n/lib/systemd/system/apt.timer\n",
		"libc6:amd64.list": "/.\n/lib64\n/lib64/ld-linux-x86-64.so.2\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu/libc.so.6\n",
	}
	canon := func(p string) string {
		for _, d := range []string{"/lib/", "/lib64/"} {
			if strings.HasPrefix(p, d) {
				return "/usr" + p
			}
		}
		return p
	}
	db, err := ParseDpkg(status, lists, canon)
	if err != nil {
		t.Fatal(err)
	}
	m := Build(imageFiles("/lib", "/lib64", "/usr/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libc.so.6"), db)
	if len(m.Packages) != 1 || m.Packages[0].Name != "libc6" || len(m.Packages[0].Files) != 2 {
		t.Errorf("packages %+v", m.Packages)
	}
	if strings.Join(m.Unowned, " ") != "/lib /lib64" || strings.Join(m.Unused, " ") != "apt_2.6.1_amd64" {
		t.Errorf("unowned %q, unused %q", m.Unowned, m.Unused)
	}
}

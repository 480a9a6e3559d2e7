package manifest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRPM(t *testing.T) {
	files := strings.Join([]string{
		"smith-hello-0:1.0-1.el9.x86_64\t/usr/bin/smith-hello",
		"smith-libgreet-0:1.0-1.el9.x86_64\t/usr/lib64/libgreet.so.1",
		"smith-libgreet-0:1.0-1.el9.x86_64\t/usr/lib64/libgreet.so.1.0.0",
		"smith-sh-0:1.0-1.el9.x86_64\t/bin/sh",
		"",
	}, "\n")
	packages := "smith-hello-0:1.0-1.el9.x86_64\nsmith-libgreet-0:1.0-1.el9.x86_64\nsmith-sh-0:1.0-1.el9.x86_64\nlib-with-dash-2:3.1-4.el9.noarch\n"
	db, err := ParseRPM(files, packages)
	if err != nil {
		t.Fatal(err)
	}
	m := Build([]string{"/usr/lib64/libgreet.so.1.0.0", "/usr/bin/smith-hello", "/etc/passwd", "/usr/lib64/libgreet.so.1", "/read/data"}, db)
	got, _ := json.Marshal(m)
	want := `{"packages":[` +
		`{"type":"rpm","id":"smith-hello-0:1.0-1.el9.x86_64","name":"smith-hello","epoch":"0","version":"1.0-1.el9","arch":"x86_64","files":["/usr/bin/smith-hello"]},` +
		`{"type":"rpm","id":"smith-libgreet-0:1.0-1.el9.x86_64","name":"smith-libgreet","epoch":"0","version":"1.0-1.el9","arch":"x86_64","files":["/usr/lib64/libgreet.so.1","/usr/lib64/libgreet.so.1.0.0"]}],` +
		`"unused":["lib-with-dash-2:3.1-4.el9.noarch","smith-sh-0:1.0-1.el9.x86_64"],"unowned":["/etc/passwd","/read/data"]}`
	if string(got) != want {
		t.Errorf("manifest\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{"garbage line\n", "no-epoch-1.0-1.x86_64\t/x\n"} {
		if _, err := ParseRPM(bad, ""); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v", bad, err)
		}
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
	m := Build([]string{"/usr/bin/cat", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/removed"}, db)
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
			{Type: "deb", ID: "libc6_2.36-9+deb12u7_amd64", Name: "libc6", Version: "2.36-9+deb12u7", Arch: "amd64", Files: []string{"/x"}},
			{Type: "rpm", ID: "bash-1:5.1-6.el9.x86_64", Name: "bash", Epoch: "1", Version: "5.1-6.el9", Arch: "x86_64", Files: []string{"/y"}},
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
		`"relationshipType": "DESCRIBES"`, `"SPDXID": "SPDXRef-Package-deb-libc6-2.36-9-deb12u7-amd64"`,
	} {
		if !strings.Contains(string(a), want) {
			t.Errorf("SPDX lacks %s:\n%s", want, a)
		}
	}
	if ParseOSRelease("NAME=\"Debian\"\nID=debian\nVERSION_ID=\"12\"\n").VersionID != "12" || ParseOSRelease("") != nil {
		t.Error("ParseOSRelease")
	}
}

package pkgdb

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smithbuild/smith/internal/golden"
)

// TestGolden: the package manifest, the in-image record and the SPDX
// document of a small dpkg source.
func TestGolden(t *testing.T) {
	status := "Package: coreutils\nStatus: install ok installed\nArchitecture: amd64\nVersion: 9.1-1\nMaintainer: M <m@example.org>\n\n" +
		"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 2.36-9\n"
	lists := map[string]string{
		"coreutils.list":   "/.\n/bin\n/bin/cat\n/bin/ls\n",
		"libc6:amd64.list": "/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n",
	}
	canon := func(p string) string {
		if strings.HasPrefix(p, "/bin/") || strings.HasPrefix(p, "/lib/") {
			return "/usr" + p
		}
		return p
	}
	db, err := ParseDpkg(status, lists, canon)
	if err != nil {
		t.Fatal(err)
	}
	db.CountInstalled(func(string) bool { return true })
	m := Build([]File{
		{Path: "/usr/bin/cat", SHA256: strings.Repeat("1", 64), SHA1: strings.Repeat("2", 40), MD5: strings.Repeat("3", 32), Reasons: []string{"requested"}},
		{Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", SHA256: strings.Repeat("4", 64), SHA1: strings.Repeat("5", 40), MD5: strings.Repeat("6", 32)},
		{Path: "/etc/passwd", SHA256: strings.Repeat("7", 64), SHA1: strings.Repeat("8", 40)},
		{Path: "/lib", Link: "usr/lib"},
	}, db)
	m.Distro = &Distro{ID: "debian", VersionID: "12"}
	m.Sources = []Source{{Kind: "image", Name: "example.com/debian@sha256:" + strings.Repeat("9", 64)}}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "manifest.json", append(b, '\n'))
	var rec strings.Builder
	for _, p := range []string{DpkgStatusDir + "/coreutils", DpkgStatusDir + "/coreutils.md5sums", DpkgStatusDir + "/libc6", DpkgStatusDir + "/libc6.md5sums"} {
		r := Record(m, db, 0, func(p string) string {
			for _, f := range m.Files {
				if f.Path == p {
					return f.MD5
				}
			}
			return ""
		})
		rec.WriteString("==> " + p + "\n" + string(r[p]))
	}
	golden.Check(t, "record.txt", []byte(rec.String()))
	doc, err := SPDX(m, "smith-golden", time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "spdx.json", append(doc, '\n'))
}

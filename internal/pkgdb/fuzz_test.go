package pkgdb

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDpkg: any status file and list fails or parses, never panics;
// what it parses builds a manifest and a record.
func FuzzParseDpkg(f *testing.F) {
	f.Add("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n", "/.\n/usr\n/usr/bin/a\n")
	f.Add("Package: b\r\nStatus: install ok installed\r\n\n\nPackage:\n", "/x\n/x/y\n/x/y/z")
	f.Fuzz(func(t *testing.T, status, list string) {
		db, err := ParseDpkg(status, map[string]string{"a.list": list, "b:amd64.list": list}, func(p string) string { return strings.Replace(p, "/bin", "/usr/bin", 1) })
		if err != nil {
			return
		}
		m := Build([]File{{Path: "/usr/bin/a"}, {Path: "/x/y/z"}}, db)
		Record(m, db, 0, func(string) string { return "d41d8cd98f00b204e9800998ecf8427e" })
	})
}

// FuzzParseRPM: any rpm record fails or parses, never panics.
func FuzzParseRPM(f *testing.F) {
	f.Add("a-0:1-1.x86_64\t/usr/bin/a\n", "a-0:1-1.x86_64\n", "a\t1-1\t0\t0\t(none)\t(none)\t1\tx86_64\t0\ta-1-1.src.rpm\n")
	f.Add("x\ty\n", "-0:.\n", "\t\t\t\t\t\t\t\t\t\n")
	f.Fuzz(func(t *testing.T, files, packages, qa string) {
		db, err := ParseRPM(files, packages, nil)
		if err != nil {
			return
		}
		if db.AddRPMQA(qa) != nil {
			return
		}
		m := Build([]File{{Path: "/usr/bin/a"}}, db)
		Record(m, db, 1, func(string) string { return "" })
		if _, err := SPDX(m, "fuzz", timeZero); err != nil {
			t.Fatal(err)
		}
	})
}

var timeZero = time.Unix(0, 0)

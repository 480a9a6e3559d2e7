package pkgdb

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Where the package record goes in an image, as scanners (syft, trivy)
// look for it: dpkg's status.d of distroless images, one stanza per package
// with the md5sums of the files shipped; Azure Linux distroless's RPM
// manifest, one line per package.
const (
	DpkgStatusDir = "/var/lib/dpkg/status.d"
	RPMManifest   = "/var/lib/rpmmanifest/container-manifest-2"
	OSRelease     = "/etc/os-release"
)

// debName is what Debian policy allows as a package name.
var debName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// AddRPMQA reads container-manifest-2 lines (see RPMManifest) for the
// packages of an RPM database, so Record can write them.
func (db *DB) AddRPMQA(text string) error {
	for n, line := range lines(text) {
		f := strings.Split(line, "\t")
		if len(f) != 10 {
			return fmt.Errorf("rpm -qa record, line %d: want 10 tab-separated fields, got %d", n+1, len(f))
		}
		id := fmt.Sprintf("%s-%s:%s.%s", f[0], f[8], f[1], f[7])
		if _, ok := db.packages[id]; ok {
			db.records[id] = line
		}
	}
	return nil
}

// Record returns the package database files to write into the image (paths
// absolute): for every contributing package only, with the files it ships.
// md5 gives the MD5 (hex) of a shipped regular file, "" for others; epoch
// replaces RPM install times so the record is reproducible.
func Record(m *Manifest, db *DB, epoch int64, md5 func(path string) string) map[string][]byte {
	out := map[string][]byte{}
	var rpm []string
	for _, p := range m.Packages {
		rec := db.records[p.ID]
		if rec == "" {
			continue
		}
		switch p.Type {
		case "deb":
			name := p.Name
			if !debName.MatchString(name) {
				continue // not a Debian package name: it could not name a file safely
			}
			out[path.Join(DpkgStatusDir, name)] = []byte(rec)
			var sums strings.Builder
			for _, f := range p.Files {
				if s := md5(f); s != "" {
					fmt.Fprintf(&sums, "%s  %s\n", s, strings.TrimPrefix(f, "/"))
				}
			}
			if sums.Len() > 0 {
				out[path.Join(DpkgStatusDir, name+".md5sums")] = []byte(sums.String())
			}
		case "rpm":
			f := strings.Split(rec, "\t")
			f[2] = strconv.FormatInt(epoch, 10) // INSTALLTIME
			rpm = append(rpm, strings.Join(f, "\t"))
		}
	}
	if len(rpm) > 0 {
		sort.Strings(rpm)
		out[RPMManifest] = []byte(strings.Join(rpm, "\n") + "\n")
	}
	return out
}

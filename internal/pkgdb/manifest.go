package pkgdb

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/smithbuild/smith/attest"
)

// The package manifest's types are public, in package attest, for those
// who read smith's attestations; here they go by their short names.
type (
	Manifest = attest.Manifest
	File     = attest.File
	Source   = attest.Source
	Distro   = attest.Distro
	Package  = attest.Package
)

// PredicateType identifies the manifest as an in-toto attestation.
const PredicateType = attest.PredicateType

// DB is a package database: every installed package and who owns each path.
type DB struct {
	packages map[string]Package  // by ID, without files
	owner    map[string]string   // path → ID
	paths    map[string][]string // ID → every path it lists
	// records hold what the image's own package database needs of each
	// package: its dpkg status stanza, or its container-manifest-2 line.
	records map[string]string
}

func newDB() *DB {
	return &DB{packages: map[string]Package{}, owner: map[string]string{}, paths: map[string][]string{},
		records: map[string]string{}}
}

// ownAll records the paths a package lists, mapped through canon. Paths
// the package lists as directories (it lists something below them) are
// left out: every package lists its parent directories, and a directory
// path that is a symlink in the image (/lib -> usr/lib) is not the
// package's file. The first owner of a shared path keeps it.
func (db *DB) ownAll(id string, paths []string, canon func(string) string) {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	for i, p := range sorted {
		if i+1 < len(sorted) && strings.HasPrefix(sorted[i+1], strings.TrimSuffix(p, "/")+"/") {
			continue // a directory of this package
		}
		if canon != nil {
			p = canon(p)
		}
		if _, ok := db.owner[p]; !ok {
			db.owner[p] = id
		}
		db.paths[id] = append(db.paths[id], p)
	}
}

// CountInstalled sets each package's InstalledFiles: how many of the paths
// it lists isFile says are files (not directories) in the source.
func (db *DB) CountInstalled(isFile func(path string) bool) {
	for id, p := range db.packages {
		n := 0
		for _, path := range db.paths[id] {
			if isFile(path) {
				n++
			}
		}
		p.InstalledFiles = n
		db.packages[id] = p
	}
}

// ParseRPM reads the record smith's install step writes: files holds
// "NEVRA<TAB>path" lines (every file of every package), packages one NEVRA
// per line (every installed package). canon maps a listed path to the path
// the image uses (EL's glibc lists /lib64/libc.so.6 where /lib64 is a link
// to usr/lib64); nil keeps paths as listed.
func ParseRPM(files, packages string, canon func(string) string) (*DB, error) {
	db := newDB()
	for n, line := range lines(packages) {
		p, err := parseNEVRA(line)
		if err != nil {
			return nil, fmt.Errorf("rpm package list, line %d: %w", n+1, err)
		}
		db.packages[p.ID] = p
	}
	byPkg := map[string][]string{}
	var order []string
	for n, line := range lines(files) {
		nevra, path, ok := strings.Cut(line, "\t")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("rpm file list, line %d: want NEVRA<TAB>/path, got %q", n+1, line)
		}
		if _, ok := db.packages[nevra]; !ok {
			p, err := parseNEVRA(nevra)
			if err != nil {
				return nil, fmt.Errorf("rpm file list, line %d: %w", n+1, err)
			}
			db.packages[nevra] = p
		}
		if _, ok := byPkg[nevra]; !ok {
			order = append(order, nevra)
		}
		byPkg[nevra] = append(byPkg[nevra], path)
	}
	for _, id := range order {
		db.ownAll(id, byPkg[id], canon)
	}
	return db, nil
}

// parseNEVRA splits name-epoch:version-release.arch. Versions and releases
// never contain "-", names may.
func parseNEVRA(s string) (Package, error) {
	p := Package{Type: "rpm", ID: s}
	ne, vra, ok := strings.Cut(s, ":")
	i := strings.LastIndex(ne, "-")
	j := strings.LastIndex(vra, ".")
	if !ok || i <= 0 || j <= 0 {
		return p, fmt.Errorf("%q is not name-epoch:version-release.arch", s)
	}
	p.Name, p.Epoch = ne[:i], ne[i+1:]
	p.Version, p.Arch = vra[:j], vra[j+1:]
	if !strings.Contains(p.Version, "-") {
		return p, fmt.Errorf("%q is not name-epoch:version-release.arch", s)
	}
	return p, nil
}

// ParseDpkg reads a dpkg database: status is /var/lib/dpkg/status, lists
// maps each info/*.list file's base name (pkg.list or pkg:arch.list) to its
// content. canon maps a listed path to the path the image uses (dpkg lists
// /bin/ls where /bin is a link to usr/bin); nil keeps paths as listed.
func ParseDpkg(status string, lists map[string]string, canon func(string) string) (*DB, error) {
	db := newDB()
	byList := map[string]string{} // list file base name → package ID
	for _, para := range strings.Split(strings.ReplaceAll(status, "\r\n", "\n"), "\n\n") {
		fields := map[string]string{}
		for _, l := range strings.Split(para, "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, " ") {
				fields[k] = strings.TrimSpace(v)
			}
		}
		name := fields["Package"]
		if name == "" || !strings.HasSuffix(fields["Status"], " installed") {
			continue
		}
		p := Package{Type: "deb", Name: name, Version: fields["Version"], Arch: fields["Architecture"]}
		p.ID = p.Name + "_" + p.Version + "_" + p.Arch
		db.packages[p.ID] = p
		db.records[p.ID] = strings.TrimSpace(para) + "\n"
		byList[name+".list"] = p.ID
		byList[name+":"+p.Arch+".list"] = p.ID
	}
	names := make([]string, 0, len(lists))
	for n := range lists {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		id, ok := byList[n]
		if !ok {
			continue // a package that is not (fully) installed
		}
		var paths []string
		for _, path := range lines(lists[n]) {
			if path != "/." && strings.HasPrefix(path, "/") {
				paths = append(paths, path)
			}
		}
		db.ownAll(id, paths, canon)
	}
	return db, nil
}

// Build joins the image's files with the database. A nil database gives a
// manifest where every file is unowned.
func Build(imageFiles []File, db *DB) *Manifest {
	if db == nil {
		db = newDB()
	}
	byPkg := map[string][]string{}
	m := &Manifest{Packages: []Package{}, Unused: []string{}, Unowned: []string{}}
	for _, f := range imageFiles {
		if id, ok := db.owner[f.Path]; ok {
			byPkg[id] = append(byPkg[id], f.Path)
			f.Package = id
		} else {
			m.Unowned = append(m.Unowned, f.Path)
		}
		m.Files = append(m.Files, f)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	for id, p := range db.packages {
		fs := byPkg[id]
		if len(fs) == 0 {
			m.Unused = append(m.Unused, id)
			continue
		}
		sort.Strings(fs)
		p.Files = fs
		m.Packages = append(m.Packages, p)
	}
	sort.Slice(m.Packages, func(i, j int) bool { return m.Packages[i].ID < m.Packages[j].ID })
	sort.Strings(m.Unused)
	sort.Strings(m.Unowned)
	return m
}

// ParseOSRelease reads the ID and VERSION_ID of an os-release file.
func ParseOSRelease(s string) *Distro {
	d := &Distro{}
	for _, l := range lines(s) {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			d.ID = v
		case "VERSION_ID":
			d.VersionID = v
		}
	}
	if d.ID == "" {
		return nil
	}
	return d
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

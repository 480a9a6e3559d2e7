package manifest

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
)

// PredicateType identifies the manifest when it travels as an in-toto
// attestation.
const PredicateType = "https://smithbuild.github.io/attestations/package-manifest/v1"

// Manifest is the JSON document smith records for a microcontainer whose
// source has a package database (RPMs it installed, or a dpkg-based image).
type Manifest struct {
	// Distro names the source's distribution when known (os-release ID and
	// VERSION_ID), e.g. {"id": "debian", "versionID": "12"}.
	Distro *Distro `json:"distro,omitempty"`
	// Packages own at least one file of the image, each with those files.
	Packages []Package `json:"packages"`
	// Unused lists installed packages (dependencies, mostly) that own no
	// file of the image, by ID.
	Unused []string `json:"unused"`
	// Unowned lists image files no package owns: generated files, the
	// rootfs/ overlay, files written by scriptlets.
	Unowned []string `json:"unowned"`
}

// Distro is the source's distribution, from its os-release file.
type Distro struct {
	ID        string `json:"id"`
	VersionID string `json:"versionID,omitempty"`
}

// Package is one contributing package.
type Package struct {
	Type string `json:"type"` // "rpm" or "deb"
	// ID is rpm's NEVRA (name-epoch:version-release.arch) or, for deb,
	// name_version_arch.
	ID      string `json:"id"`
	Name    string `json:"name"`
	Epoch   string `json:"epoch,omitempty"` // rpm only
	Version string `json:"version"`         // rpm: version-release; deb: the Version field
	Arch    string `json:"arch,omitempty"`
	// Files of the image the package owns, sorted.
	Files []string `json:"files"`
}

// DB is a package database: every installed package and who owns each path.
type DB struct {
	packages map[string]Package // by ID, without files
	owner    map[string]string  // path → ID
}

func newDB() *DB { return &DB{packages: map[string]Package{}, owner: map[string]string{}} }

// own records that id owns path; the first owner of a shared path (mostly
// directories) keeps it.
func (db *DB) own(path, id string) {
	if _, ok := db.owner[path]; !ok {
		db.owner[path] = id
	}
}

// ParseRPM reads the record smith's install step writes: files holds
// "NEVRA<TAB>path" lines (every file of every package), packages one NEVRA
// per line (every installed package).
func ParseRPM(files, packages string) (*DB, error) {
	db := newDB()
	for n, line := range lines(packages) {
		p, err := parseNEVRA(line)
		if err != nil {
			return nil, fmt.Errorf("rpm package list, line %d: %w", n+1, err)
		}
		db.packages[p.ID] = p
	}
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
		db.own(path, nevra)
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
		for _, path := range lines(lists[n]) {
			if path == "/." || !strings.HasPrefix(path, "/") {
				continue
			}
			if canon != nil {
				path = canon(path)
			}
			db.own(path, id)
		}
	}
	return db, nil
}

// Build joins the image's files (absolute paths) with the database. A nil
// database gives a manifest where every file is unowned.
func Build(imageFiles []string, db *DB) *Manifest {
	if db == nil {
		db = newDB()
	}
	byPkg := map[string][]string{}
	m := &Manifest{Packages: []Package{}, Unused: []string{}, Unowned: []string{}}
	for _, f := range imageFiles {
		if id, ok := db.owner[f]; ok {
			byPkg[id] = append(byPkg[id], f)
		} else {
			m.Unowned = append(m.Unowned, f)
		}
	}
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

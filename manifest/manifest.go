package manifest

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
)

// PredicateType identifies the manifest when it travels as an in-toto
// attestation.
const PredicateType = "https://smithbuild.github.io/attestations/rpm-manifest/v1"

// Manifest is the JSON document smith records for an RPM build.
type Manifest struct {
	// Packages that own at least one file of the image, by NEVRA
	// (name-epoch:version-release.arch), each with those files.
	Packages []Package `json:"packages"`
	// Unused lists installed packages (dependencies, mostly) that own no
	// file of the image.
	Unused []string `json:"unused"`
	// Unowned lists image files no package owns: generated files, the
	// rootfs/ overlay, files written by scriptlets.
	Unowned []string `json:"unowned"`
}

// Package is one contributing package.
type Package struct {
	NEVRA string   `json:"nevra"`
	Files []string `json:"files"`
}

// Build joins the image's files (absolute paths, directories left out by
// the caller or not) with the rpmdb record: files is "NEVRA<TAB>path" per
// line, packages one NEVRA per line.
func Build(imageFiles []string, files, packages string) (*Manifest, error) {
	owner := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(files))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		nevra, path, ok := strings.Cut(line, "\t")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("rpm file list, line %d: want NEVRA<TAB>/path, got %q", n, line)
		}
		// A path shared by several packages (directories, mostly) keeps
		// the first owner in sorted order.
		if _, seen := owner[path]; !seen {
			owner[path] = nevra
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	byPkg := map[string][]string{}
	m := &Manifest{Packages: []Package{}, Unused: []string{}, Unowned: []string{}}
	for _, f := range imageFiles {
		if nevra, ok := owner[f]; ok {
			byPkg[nevra] = append(byPkg[nevra], f)
		} else {
			m.Unowned = append(m.Unowned, f)
		}
	}
	for nevra, fs := range byPkg {
		sort.Strings(fs)
		m.Packages = append(m.Packages, Package{NEVRA: nevra, Files: fs})
	}
	sort.Slice(m.Packages, func(i, j int) bool { return m.Packages[i].NEVRA < m.Packages[j].NEVRA })
	for _, nevra := range strings.Split(packages, "\n") {
		nevra = strings.TrimSpace(nevra)
		if nevra != "" && byPkg[nevra] == nil {
			m.Unused = append(m.Unused, nevra)
		}
	}
	sort.Strings(m.Unused)
	sort.Strings(m.Unowned)
	return m, nil
}

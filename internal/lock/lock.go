package lock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/smithbuild/smith/config"
)

// FileName is where the lock lives, beside smith.yaml in the build context.
const FileName = "smith.lock"

// Version is the format this package writes and reads.
const Version = 1

// MaxPackages bounds a lock: each package becomes a source of the build.
const MaxPackages = 20000

// Lock is smith.lock.
type Lock struct {
	Version int `json:"version"`
	// Input is the digest of the smith.yaml fields that decide what is
	// installed (see Input); a lock whose Input differs is stale.
	Input string `json:"input"`
	// Installer is the image that resolved the lock, by digest.
	Installer string `json:"installer,omitempty"`
	// Arches holds the packages of each RPM architecture built for.
	Arches map[string][]Package `json:"arches"`
}

// Package is one RPM of the transaction.
type Package struct {
	// NEVRA is name-epoch:version-release.arch.
	NEVRA string `json:"nevra"`
	// Repo is the repository id it came from ("@commandline" for a local
	// file of the build context).
	Repo string `json:"repo"`
	// URL is where to fetch it; Path instead names a file of the build
	// context (a local RPM, or a package of a repository folder there).
	URL    string `json:"url,omitempty"`
	Path   string `json:"path,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// FileName is the name a locked RPM is fetched as: fixed, so nothing from
// the lock's URL reaches a file name or a command line.
const RPMFileName = "package.rpm"

// Patterns a lock's values must match: they become file names, URLs and
// arguments of the install step.
var (
	nevraRE = regexp.MustCompile(`^[A-Za-z0-9._+~^-]+-[0-9]+:[A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+\.[A-Za-z0-9_]+$`)
	repoRE  = regexp.MustCompile(`^[A-Za-z0-9_.:@-]+$`)
	urlRE   = regexp.MustCompile("^https?://[^\\s'\"\\\\`$]+$")
	pathRE  = regexp.MustCompile(`^[A-Za-z0-9._/+@%=,~-]+$`)
)

// Parse reads smith.lock.
func Parse(b []byte) (*Lock, error) {
	var l Lock
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	if l.Version != Version {
		return nil, fmt.Errorf("%s: version %d, want %d", FileName, l.Version, Version)
	}
	n := 0
	for arch, pkgs := range l.Arches {
		if n += len(pkgs); n > MaxPackages {
			return nil, fmt.Errorf("%s: more than %d packages", FileName, MaxPackages)
		}
		for i, p := range pkgs {
			switch {
			case !nevraRE.MatchString(p.NEVRA):
				return nil, fmt.Errorf("%s: arches.%s[%d]: %q is not a NEVRA (name-epoch:version-release.arch)", FileName, arch, i, p.NEVRA)
			case !repoRE.MatchString(p.Repo):
				return nil, fmt.Errorf("%s: %s: %q is not a repository id", FileName, p.NEVRA, p.Repo)
			case p.Path != "" && !pathRE.MatchString(p.Path):
				return nil, fmt.Errorf("%s: %s: path %q has characters a build-context path may not", FileName, p.NEVRA, p.Path)
			case p.Path == "" && !urlRE.MatchString(p.URL):
				return nil, fmt.Errorf("%s: %s: url %q is not a plain http(s) URL", FileName, p.NEVRA, p.URL)
			case len(p.SHA256) != 64 || strings.Trim(p.SHA256, "0123456789abcdef") != "":
				// Local files too: the lock pins their bytes, so a
				// rebuilt RPM of the build context is noticed.
				return nil, fmt.Errorf("%s: %s: needs a sha256 (64 hex digits); a lock written before smith pinned local files has none: refresh it with --opt smith-lock=1", FileName, p.NEVRA)
			case p.Path != "":
				if _, err := config.ContextPath(p.Path); err != nil {
					return nil, fmt.Errorf("%s: %s: path %v", FileName, p.NEVRA, err)
				}
			}
		}
	}
	return &l, nil
}

// Render writes the lock in its stable, diff-friendly form: packages
// sorted by NEVRA, one JSON object per line.
func (l *Lock) Render() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"input\": %q,\n", l.Version, l.Input)
	if l.Installer != "" {
		fmt.Fprintf(&b, "  \"installer\": %q,\n", l.Installer)
	}
	b.WriteString("  \"arches\": {")
	arches := make([]string, 0, len(l.Arches))
	for a := range l.Arches {
		arches = append(arches, a)
	}
	sort.Strings(arches)
	for i, a := range arches {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    %q: [", a)
		pkgs := append([]Package(nil), l.Arches[a]...)
		sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].NEVRA < pkgs[j].NEVRA })
		for j, p := range pkgs {
			line, _ := json.Marshal(p)
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n      " + string(line))
		}
		b.WriteString("\n    ]")
	}
	b.WriteString("\n  }\n}\n")
	return b.Bytes()
}

// Input digests what decides an RPM transaction: the packages, the
// repositories (with the ids of their secrets, never their content), the
// release, whether the installer's own repositories count, the signature
// policy for local files, and the installer image smith.yaml names.
// Moving lines, comments and fields such as paths or cmd leave it alone.
func Input(f *config.File) string {
	type repo struct {
		Name, BaseURL, GPGKey string
		GPGCheck              bool
		Secret, Cert, Key     string
	}
	in := struct {
		Packages, Deps []string
		Repos          []repo
		Releasever     string
		Installer      string
		InstallerRepos bool
		LocalGPGCheck  bool
	}{
		Packages:       f.Package.Values(),
		Deps:           f.Mock.Deps.Values(),
		Releasever:     f.Releasever.Value,
		Installer:      config.Redact(f.Installer.Value),
		InstallerRepos: f.UseInstallerRepos(),
		LocalGPGCheck:  f.CheckLocalSignatures(),
	}
	for _, r := range f.Repos {
		in.Repos = append(in.Repos, repo{r.Name.Value, r.BaseURL.Value, r.GPGKey.Value, r.CheckSignatures(),
			r.Secret.Value, r.ClientCert.Value, r.ClientKey.Value})
	}
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// LocalRepo is the repository id dnf gives a local RPM file.
const LocalRepo = "@commandline"

// CheckOrigins confines each package to where smith.yaml lets it come
// from, for the signature policy follows the repository a package names:
// a local file must be one a local pattern of package (or mock.deps)
// matches, a package of a smith.yaml repository must lie under its baseurl
// (or inside its build-context folder), and a repository smith.yaml does
// not name must be the installer's, when its repositories are used. So an
// edited lock cannot pass a package off as one of a repository whose
// signatures are not checked.
//
// A repository with a secret gets it sent along: its packages must come
// from its own host (scheme and host of baseurl) too, whatever dnf
// variables the baseurl holds; that error is at the repository's line.
func CheckOrigins(f *config.File, pkgs []Package) error {
	for _, p := range pkgs {
		if r, ok := f.Repo(p.Repo); ok && r.Secret.Set && p.URL != "" && !sameOrigin(p.URL, r.BaseURL.Value) {
			return &config.Error{File: f.Name, Pos: r.BaseURL.Pos, Field: fmt.Sprintf("repos[%d]", r.Index),
				Msg: fmt.Sprintf("smith.lock fetches %s from %s, not from this repository's host: its secret is not sent there; refresh the lock", p.NEVRA, p.URL)}
		}
		if err := checkOrigin(f, p); err != nil {
			return fmt.Errorf("%s: %s: %s; refresh the lock with --opt smith-lock=1", FileName, p.NEVRA, err)
		}
	}
	return nil
}

// sameOrigin tells whether two http(s) URLs have the same scheme and host.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

func checkOrigin(f *config.File, p Package) error {
	if p.Repo == LocalRepo {
		if p.URL != "" || !localPattern(f, p.Path) {
			return fmt.Errorf("a local file, but %s matches no local RPM pattern of package", describe(p))
		}
		return nil
	}
	r, ok := f.Repo(p.Repo)
	if !ok {
		if !f.UseInstallerRepos() {
			return fmt.Errorf("repository %q is not in smith.yaml, and installer_repos is false", p.Repo)
		}
		return nil // the installer's: its signatures are always checked
	}
	if !config.IsURL(r.BaseURL.Value) {
		dir, _ := config.ContextPath(r.BaseURL.Value)
		if p.URL != "" || !strings.HasPrefix(p.Path, strings.TrimSuffix(dir, "/")+"/") {
			return fmt.Errorf("%s is not inside repository %s's folder %s", describe(p), p.Repo, r.BaseURL.Value)
		}
		return nil
	}
	// Up to the first dnf variable ($basearch, $releasever): the lock has
	// them expanded.
	prefix, _, _ := strings.Cut(r.BaseURL.Value, "$")
	if !strings.HasSuffix(prefix, "/") && !strings.Contains(r.BaseURL.Value, "$") {
		prefix += "/"
	}
	if p.Path != "" || !strings.HasPrefix(p.URL, prefix) {
		return fmt.Errorf("%s is not under repository %s's baseurl %s", describe(p), p.Repo, config.Redact(r.BaseURL.Value))
	}
	return nil
}

// localPattern tells whether a build-context path matches a local RPM
// pattern of smith.yaml.
func localPattern(f *config.File, p string) bool {
	if p == "" {
		return false
	}
	_, local := f.InstallPackages()
	for _, it := range local {
		glob, err := config.ContextPath(it.Value)
		if ok, _ := path.Match(glob, p); err == nil && ok {
			return true
		}
	}
	return false
}

func describe(p Package) string {
	if p.URL != "" {
		return "its url " + p.URL
	}
	return "its path " + p.Path
}

// StaleError says the lock was made from other smith.yaml fields.
type StaleError struct{ Have, Want string }

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s is stale: it was made for other packages or repositories (input %s, smith.yaml now %s); "+
		"refresh it with --opt smith-lock=1 --output type=local,dest=. (buildx: --build-arg SMITH_LOCK=1 -o .), "+
		"or build unlocked with --opt smith-lock=ignore", FileName, short(e.Have), short(e.Want))
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// Check returns a *StaleError unless the lock was made from f.
func (l *Lock) Check(f *config.File) error {
	if want := Input(f); l.Input != want {
		return &StaleError{Have: l.Input, Want: want}
	}
	return nil
}

package config

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Repo is one entry of repos: a yum/dnf repository to install from.
type Repo struct {
	Name String
	// BaseURL is an http(s) URL, or a folder of the build context (a
	// relative path) that holds a repository (repodata/).
	BaseURL String
	// GPGKey is an http(s) URL or a file of the build context.
	GPGKey String
	// GPGCheck defaults to true; turning it off is explicit.
	GPGCheck Bool
	// Secret names the BuildKit secret (--secret id=ID,…) that holds
	// "user:password" for HTTP basic auth to the repository.
	Secret String
	// ClientCert and ClientKey name the secrets holding a TLS client
	// certificate and its key (PEM).
	ClientCert, ClientKey String
	Pos                   Pos
	Index                 int
}

// CheckSignatures reports whether packages from the repo are verified.
func (r Repo) CheckSignatures() bool { return !r.GPGCheck.Set || r.GPGCheck.Value }

// Repo is the repository of repos named name.
func (f *File) Repo(name string) (Repo, bool) {
	for _, r := range f.Repos {
		if r.Name.Value == name {
			return r, true
		}
	}
	return Repo{}, false
}

// InstallPackages returns what an RPM build installs: mock.deps first,
// then package, as smith did, with local RPM files (patterns of the build
// context) split out.
func (f *File) InstallPackages() (names, local []String) {
	for _, it := range slices.Concat(f.Mock.Deps.Items, f.Package.Items) {
		if IsLocalRPM(it.Value) {
			local = append(local, it)
		} else {
			names = append(names, it)
		}
	}
	return names, local
}

// CheckLocalSignatures tells whether local RPM files must be signed
// (localpkg_gpgcheck, default true).
func (f *File) CheckLocalSignatures() bool { return !f.LocalGPGCheck.Set || f.LocalGPGCheck.Value }

// UseInstallerRepos tells whether the installer's own repositories are
// used too (installer_repos, default true).
func (f *File) UseInstallerRepos() bool { return !f.InstallerRepos.Set || f.InstallerRepos.Value }

var repoKeys = []itemKey[Repo]{
	{"name", into(func(r *Repo) *String { return &r.Name }, (*parser).str)},
	{"baseurl", into(func(r *Repo) *String { return &r.BaseURL }, (*parser).str)},
	{"gpgkey", into(func(r *Repo) *String { return &r.GPGKey }, (*parser).str)},
	{"gpgcheck", into(func(r *Repo) *Bool { return &r.GPGCheck }, (*parser).boolean)},
	{"secret", into(func(r *Repo) *String { return &r.Secret }, (*parser).secretName)},
	{"sslclientcert", into(func(r *Repo) *String { return &r.ClientCert }, (*parser).secretName)},
	{"sslclientkey", into(func(r *Repo) *String { return &r.ClientKey }, (*parser).secretName)},
}

// secretID is what a BuildKit secret id may be.
var secretID = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

var repoName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// plainValue is what a repository URL or path may contain: printable
// characters without spaces, quotes, backslashes or shell expansions.
var plainValue = regexp.MustCompile("^[^\\s'\"\\\\`$]+$")

// IsURL reports whether v is an http(s) URL.
func IsURL(v string) bool {
	l := strings.ToLower(v)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// IsLocalRPM reports whether a package item names RPM files in the build
// context (./rpms/app.rpm, rpms/*.rpm) rather than a package to find in a
// repository.
func IsLocalRPM(v string) bool {
	return strings.HasPrefix(v, "./") || (strings.HasSuffix(v, ".rpm") && !strings.HasPrefix(v, "/"))
}

// ContextPath cleans a path inside the build context; it must not be
// absolute or climb out of the context.
func ContextPath(v string) (string, error) {
	if strings.HasPrefix(v, "/") {
		return "", fmt.Errorf("%q is absolute; name a path inside the build context, like ./%s", v, strings.TrimLeft(v, "/"))
	}
	c := path.Clean(v)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q leaves the build context", v)
	}
	return c, nil
}

// secretName decodes the id of a BuildKit secret.
func (p *parser) secretName(n *yaml.Node, field string) (String, error) {
	s, err := p.str(n, field)
	if err == nil && s.Set && !secretID.MatchString(s.Value) {
		err = p.errorf(s.Pos, field, "%q is not a secret id (letters, digits, . _ -): name the secret of --secret id=ID,src=FILE", s.Value)
	}
	return s, err
}

// repos decodes and checks the repos: list into f.Repos.
func (p *parser) repos(f *File, n *yaml.Node, field string) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errorf(posOf(n), field, "expected a list of repositories, got %s", describe(n))
	}
	seen := map[string]int{}
	for i, item := range n.Content {
		rf := indexField(field, i)
		r, err := p.repo(resolve(item), i, rf)
		if err != nil {
			return err
		}
		if j, dup := seen[r.Name.Value]; dup {
			return p.errorf(r.Name.Pos, rf+".name", "%q is also the name of repos[%d]", r.Name.Value, j)
		}
		seen[r.Name.Value] = i
		if err := p.checkRepo(r, rf); err != nil {
			return err
		}
		f.Repos = append(f.Repos, r)
	}
	return nil
}

// repo decodes repos[i] (field rf) and checks its name.
func (p *parser) repo(item *yaml.Node, i int, rf string) (Repo, error) {
	if item.Kind != yaml.MappingNode {
		return Repo{}, p.errorf(posOf(item), rf, "expected a mapping with name and baseurl, got %s", describe(item))
	}
	r := Repo{Pos: posOf(item), Index: i}
	entries, err := p.entries(item, rf)
	if err != nil {
		return Repo{}, err
	}
	if err := decodeItem(p, entries, rf, repoKeys, &r); err != nil {
		return Repo{}, err
	}
	switch {
	case r.Name.Value == "":
		return Repo{}, p.errorf(r.Pos, rf, "a repository needs a name")
	case !repoName.MatchString(r.Name.Value):
		return Repo{}, p.errorf(r.Name.Pos, rf+".name", "%q: use letters, digits and _ . : -", r.Name.Value)
	case r.Name.Value == "smith-local":
		return Repo{}, p.errorf(r.Name.Pos, rf+".name", "%q is reserved", r.Name.Value)
	}
	return r, nil
}

// checkRepo checks what repository r (field rf) is fetched from, and how:
// its baseurl and gpgkey, secrets and signature checks.
func (p *parser) checkRepo(r Repo, rf string) error {
	if r.BaseURL.Value == "" {
		return p.errorf(r.Pos, rf, "a repository needs a baseurl (an http(s) URL or a folder of the build context)")
	}
	if (r.Secret.Set || r.ClientCert.Set || r.ClientKey.Set) && !IsURL(r.BaseURL.Value) {
		return p.errorf(r.BaseURL.Pos, rf, "secret, sslclientcert and sslclientkey are for repositories served over http(s)")
	}
	if r.ClientCert.Set != r.ClientKey.Set {
		return p.errorf(r.Pos, rf, "sslclientcert and sslclientkey go together")
	}
	if err := p.repoLocation(r.BaseURL, rf, true); err != nil {
		return err
	}
	if err := p.repoLocation(r.GPGKey, rf, false); err != nil {
		return err
	}
	if r.CheckSignatures() && r.GPGKey.Value == "" {
		return p.errorf(r.Pos, rf, "gpgcheck is on but no gpgkey is given: add gpgkey (a URL or a file in the build context) or set gpgcheck: false")
	}
	return nil
}

// repoLocation checks a baseurl or gpgkey of repository rf, if set: an
// http(s) URL without credentials, or a path in the build context, with
// nothing a repo file or a script would have to quote.
func (p *parser) repoLocation(s String, rf string, baseURL bool) error {
	if s.Value == "" {
		return nil
	}
	v := s.Value
	if baseURL {
		// dnf's own variables ($basearch, $releasever): the value
		// goes into a repo file, never through a shell.
		v = strings.ReplaceAll(v, "$", "")
	}
	if !plainValue.MatchString(v) {
		return p.errorf(s.Pos, rf, "%q: spaces, quotes and control characters are not allowed", s.Value)
	}
	if IsURL(s.Value) {
		if HasCredentials(s.Value) {
			return p.errorf(s.Pos, rf, "credentials in repository URLs are not supported: they would be recorded in the build; pass them as a BuildKit secret (secret: ID, with --secret id=ID,src=FILE holding user:password)")
		}
		return nil
	}
	if strings.Contains(s.Value, "://") {
		return p.errorf(s.Pos, rf, "%q: want an http(s) URL or a path in the build context", s.Value)
	}
	if _, err := ContextPath(s.Value); err != nil {
		return p.errorf(s.Pos, rf, "%v", err)
	}
	return nil
}

package config

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// normalized is the JSON form of a File: every field, explicit or
// detected, in smith's key names and order.
type normalized struct {
	Type       string            `json:"type,omitempty"`
	Package    []string          `json:"package,omitempty"`
	Paths      []string          `json:"paths,omitempty"`
	Excludes   []string          `json:"excludes,omitempty"`
	Parent     string            `json:"parent,omitempty"`
	NSS        bool              `json:"nss,omitempty"`
	Root       bool              `json:"root,omitempty"`
	User       string            `json:"user,omitempty"`
	Groups     []string          `json:"groups,omitempty"`
	Mounts     []string          `json:"mounts,omitempty"`
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Cmd        []string          `json:"cmd,omitempty"`
	Dir        string            `json:"dir,omitempty"`
	Env        []string          `json:"env,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Ports      []string          `json:"ports,omitempty"`
	Mock       *normalizedMock   `json:"mock,omitempty"`

	Installer        string           `json:"installer,omitempty"`
	Releasever       string           `json:"releasever,omitempty"`
	Repos            []normalizedRepo `json:"repos,omitempty"`
	InstallerRepos   *bool            `json:"installer_repos,omitempty"`
	LocalPkgGPGCheck *bool            `json:"localpkg_gpgcheck,omitempty"`

	Charsets  []string          `json:"charsets,omitempty"`
	Dlopen    string            `json:"dlopen,omitempty"`
	CACerts   *bool             `json:"cacerts,omitempty"`
	Probe     []normalizedProbe `json:"probe,omitempty"`
	PackageDB *bool             `json:"packagedb,omitempty"`
	Emulate   bool              `json:"emulate,omitempty"`
}

type normalizedProbe struct {
	Run     []string `json:"run"`
	Exit    int      `json:"exit,omitempty"`
	Output  string   `json:"output,omitempty"`
	Stdin   string   `json:"stdin,omitempty"`
	Network bool     `json:"network,omitempty"`
}

type normalizedRepo struct {
	Name     string `json:"name"`
	BaseURL  string `json:"baseurl"`
	GPGKey   string `json:"gpgkey,omitempty"`
	GPGCheck bool   `json:"gpgcheck"`
}

type normalizedMock struct {
	Config     string   `json:"config,omitempty"`
	PreBuild   string   `json:"pre-build,omitempty"`
	PostBuild  string   `json:"post-build,omitempty"`
	Deps       []string `json:"deps,omitempty"`
	Debuginfo  bool     `json:"debuginfo,omitempty"`
	Debugdeps  []string `json:"debugdeps,omitempty"`
	Debugpaths []string `json:"debugpaths,omitempty"`
}

// Normalized returns the definition as compact JSON, for recording in the
// image: detected values filled in, credentials in URLs removed.
func (f *File) Normalized() (string, error) {
	n := normalized{
		Type:       f.Type.Value,
		Paths:      f.Paths.Values(),
		Excludes:   f.Excludes.Values(),
		Parent:     Redact(f.Parent.Value),
		NSS:        f.NSS.Value,
		Root:       f.Root.Value,
		User:       f.User.Value,
		Groups:     f.Groups.Values(),
		Mounts:     f.Mounts.Values(),
		Entrypoint: f.Entrypoint.Values(),
		Cmd:        f.Cmd.Values(),
		Dir:        f.Dir.Value,
		Env:        f.Env.Values(),
		Ports:      f.Ports.Values(),
	}
	for _, p := range f.Package.Items {
		n.Package = append(n.Package, Redact(p.Value))
	}
	if len(f.Labels) > 0 {
		n.Labels = map[string]string{}
		for _, kv := range f.Labels {
			n.Labels[kv.Key.Value] = kv.Value.Value
		}
	}
	if m := f.Mock; m.Set {
		n.Mock = &normalizedMock{
			Config: m.Config.Value, PreBuild: m.PreBuild.Value, PostBuild: m.PostBuild.Value,
			Deps: m.Deps.Values(), Debuginfo: m.Debuginfo.Value,
			Debugdeps: m.Debugdeps.Values(), Debugpaths: m.Debugpaths.Values(),
		}
	}
	n.Installer, n.Releasever = Redact(f.Installer.Value), f.Releasever.Value
	for _, r := range f.Repos {
		n.Repos = append(n.Repos, normalizedRepo{Name: r.Name.Value, BaseURL: Redact(r.BaseURL.Value),
			GPGKey: Redact(r.GPGKey.Value), GPGCheck: r.CheckSignatures()})
	}
	if f.InstallerRepos.Set {
		n.InstallerRepos = &f.InstallerRepos.Value
	}
	if f.LocalGPGCheck.Set {
		n.LocalPkgGPGCheck = &f.LocalGPGCheck.Value
	}
	if f.Charsets.Set {
		n.Charsets = append([]string{}, f.Charsets.Values()...)
	}
	n.Dlopen = f.Dlopen.Value
	if f.CACerts.Set {
		n.CACerts = &f.CACerts.Value
	}
	n.Emulate = f.Emulate.Value
	if f.PackageDB.Set {
		n.PackageDB = &f.PackageDB.Value
	}
	for _, pr := range f.Probes {
		n.Probe = append(n.Probe, normalizedProbe{Run: pr.Run.Values(), Exit: pr.Exit,
			Output: pr.Output.Value, Stdin: pr.Stdin.Value, Network: pr.Network.Value})
	}
	b, err := json.Marshal(n)
	return string(b), err
}

// HasCredentials tells whether an http(s) URL carries user[:password]@.
func HasCredentials(v string) bool {
	lower := strings.ToLower(v)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	if u, err := url.Parse(v); err == nil {
		return u.User != nil
	}
	_, rest, _ := strings.Cut(v, "://")
	host, _, _ := strings.Cut(rest, "/")
	return strings.Contains(host, "@")
}

// Redact removes user:password@ from an http(s) URL; other values pass
// through unchanged.
func Redact(v string) string {
	lower := strings.ToLower(v)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil {
		// Unparseable: drop anything that could be credentials.
		if at := strings.LastIndex(v, "@"); at >= 0 {
			scheme, _, _ := strings.Cut(v, "://")
			return scheme + "://" + v[at+1:]
		}
		return v
	}
	if u.User == nil {
		return v // as written: u.String() would also drop an empty "#"
	}
	u.User = nil
	return u.String()
}

var urlCredentials = regexp.MustCompile(`(?i)\b(https?://)[^/\s'"]+@`)

// RedactText removes user:password@ from every http(s) URL in a text, such
// as smith.yaml itself before it is shown in errors or recorded in
// provenance. Line and column positions of other text stay the same on
// every line without credentials.
func RedactText(b []byte) []byte {
	return urlCredentials.ReplaceAll(b, []byte("$1"))
}

package config

import (
	"bytes"
	"encoding/json"

	"gopkg.in/yaml.v3"
)

// Applies says which package types a key is for.
type Applies uint8

// The package types a key applies to.
const (
	ForOCI  Applies = 1 << iota // type oci: shrinking an image
	ForMock                     // type mock: installing RPMs
	ForAll  = ForOCI | ForMock
)

// Key is one key of smith.yaml, defined once: how its value decodes into
// a File, what it records in the normalized definition, which package
// types it applies to and what it means. Parsing, the "did you mean" hint,
// File.Normalized, the check that a key fits the type and the README test
// all read the same table, so a new key is one entry.
type Key struct {
	Name    string
	Applies Applies
	Doc     string // one line, for the reference
	// Sub lists the keys of a mapping value (mock's).
	Sub []Key
	// decode stores n in f; field is the key's path in errors ("mock.deps").
	decode decoder
	// normalize returns the key's value in the normalized definition, or
	// nil to leave the key out.
	normalize func(f *File) any
}

// AppliesTo reports whether the key means something for package type typ
// (TypeOCI or TypeMock). With no type (no package), every key applies.
func (k Key) AppliesTo(typ string) bool {
	switch typ {
	case TypeOCI:
		return k.Applies&ForOCI != 0
	case TypeMock:
		return k.Applies&ForMock != 0
	}
	return true
}

// Keys returns smith.yaml's top-level keys, in the order of the normalized
// definition.
func Keys() []Key { return append([]Key(nil), topKeys...) }

func keyNames(ks []Key) []string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return names
}

func lookupKey(ks []Key, name string) (Key, bool) {
	for _, k := range ks {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// The normalizers' building blocks: each returns nil for what the
// definition leaves out (empty, false or unset).
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func items(l List) any {
	if len(l.Items) == 0 {
		return nil
	}
	return l.Values()
}

func redacted(l List) any {
	if len(l.Items) == 0 {
		return nil
	}
	out := make([]string, len(l.Items))
	for i, it := range l.Items {
		out[i] = Redact(it.Value)
	}
	return out
}

// flag records true only.
func flag(b Bool) any {
	if !b.Value {
		return nil
	}
	return true
}

// setFlag records an explicit value, false included: for keys whose
// default is true.
func setFlag(b Bool) any {
	if !b.Set {
		return nil
	}
	return b.Value
}

// decoder stores a key's value in f; field is the key's path in errors.
type decoder = func(p *parser, f *File, n *yaml.Node, field string) error

// into makes the decoder that stores what dec returns in the field of File
// that dst picks.
// into makes the decoder of a key whose value dec decodes and dst says
// where to store, in a File or in an item of a list (a repository, a probe).
func into[D, T any](dst func(*D) *T, dec func(p *parser, n *yaml.Node, field string) (T, error)) func(*parser, *D, *yaml.Node, string) error {
	return func(p *parser, d *D, n *yaml.Node, field string) (err error) {
		*dst(d), err = dec(p, n, field)
		return err
	}
}

func strKey(dst func(*File) *String) decoder { return into(dst, (*parser).str) }

func boolKey(dst func(*File) *Bool) decoder { return into(dst, (*parser).boolean) }

func listKey(dst func(*File) *List, skipEmpty bool, check func(string) error) decoder {
	return into(dst, func(p *parser, n *yaml.Node, field string) (List, error) {
		return p.list(n, field, skipEmpty, check)
	})
}

// object writes f's keys ks that have a value, in table order, as a JSON
// object.
type object struct {
	f  *File
	ks []Key
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range o.ks {
		v := k.normalize(o.f)
		if v == nil {
			continue
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(k.Name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var mockKeys = []Key{
	{Name: "config", Applies: ForMock, Doc: "the host-side mock tool's config (not implemented: fails with a message)",
		decode: strKey(func(f *File) *String { return &f.Mock.Config }), normalize: func(f *File) any { return text(f.Mock.Config.Value) }},
	{Name: "pre-build", Applies: ForMock, Doc: "a mock pre-build script (not implemented: fails with a message)",
		decode: strKey(func(f *File) *String { return &f.Mock.PreBuild }), normalize: func(f *File) any { return text(f.Mock.PreBuild.Value) }},
	{Name: "post-build", Applies: ForMock, Doc: "a mock post-build script (not implemented: fails with a message)",
		decode: strKey(func(f *File) *String { return &f.Mock.PostBuild }), normalize: func(f *File) any { return text(f.Mock.PostBuild.Value) }},
	// deps also counts as a package to copy from for paths, whatever the
	// type, as it always has.
	{Name: "deps", Applies: ForAll, Doc: "more packages, installed first in the same transaction",
		decode: listKey(func(f *File) *List { return &f.Mock.Deps }, false, nil), normalize: func(f *File) any { return items(f.Mock.Deps) }},
	{Name: "debuginfo", Applies: ForMock, Doc: "debuginfo images (not implemented: fails with a message)",
		decode: boolKey(func(f *File) *Bool { return &f.Mock.Debuginfo }), normalize: func(f *File) any { return flag(f.Mock.Debuginfo) }},
	{Name: "debugdeps", Applies: ForMock, Doc: "packages of a debuginfo image (not implemented: fails with a message)",
		decode: listKey(func(f *File) *List { return &f.Mock.Debugdeps }, false, nil), normalize: func(f *File) any { return items(f.Mock.Debugdeps) }},
	{Name: "debugpaths", Applies: ForMock, Doc: "paths of a debuginfo image (not implemented: fails with a message)",
		decode: listKey(func(f *File) *List { return &f.Mock.Debugpaths }, false, nil), normalize: func(f *File) any { return items(f.Mock.Debugpaths) }},
}

// topKeys is in the order of the normalized definition, which image
// digests depend on: append new keys at the end.
var topKeys = []Key{
	{Name: "type", Applies: ForAll, Doc: "oci (alias container) shrinks an image, mock installs RPMs; detected from package when absent",
		decode:    into(func(f *File) *String { return &f.Type }, (*parser).typ),
		normalize: func(f *File) any { return text(f.Type.Value) }},
	{Name: "package", Applies: ForAll, Doc: "the image to shrink (oci), or the packages and RPM files to install (mock)",
		decode:    into(func(f *File) *List { return &f.Package }, (*parser).pkg),
		normalize: func(f *File) any { return redacted(f.Package) }},
	{Name: "paths", Applies: ForAll, Doc: "globs of what to keep from the source, with their closure",
		decode: listKey(func(f *File) *List { return &f.Paths }, true, checkGlob), normalize: func(f *File) any { return items(f.Paths) }},
	{Name: "excludes", Applies: ForAll, Doc: "globs left out, with their subtrees",
		decode: listKey(func(f *File) *List { return &f.Excludes }, true, checkGlob), normalize: func(f *File) any { return items(f.Excludes) }},
	{Name: "parent", Applies: ForAll, Doc: "an image whose layers stay below the microcontainer's",
		decode: strKey(func(f *File) *String { return &f.Parent }), normalize: func(f *File) any { return text(Redact(f.Parent.Value)) }},
	{Name: "nss", Applies: ForAll, Doc: "true always ships nsswitch.conf and its modules, false never; unset, smith decides",
		decode: boolKey(func(f *File) *Bool { return &f.NSS }), normalize: func(f *File) any { return flag(f.NSS) }},
	{Name: "root", Applies: ForAll, Doc: "true runs the image as 0:0",
		decode: boolKey(func(f *File) *Bool { return &f.Root }), normalize: func(f *File) any { return flag(f.Root) }},
	{Name: "user", Applies: ForAll, Doc: "the runtime user: uid, name, uid:gid or name:group (default 10:10)",
		decode: strKey(func(f *File) *String { return &f.User }), normalize: func(f *File) any { return text(f.User.Value) }},
	{Name: "groups", Applies: ForAll, Doc: "supplementary groups the runtime user joins",
		decode: listKey(func(f *File) *List { return &f.Groups }, false, nil), normalize: func(f *File) any { return items(f.Groups) }},
	{Name: "mounts", Applies: ForAll, Doc: "absolute directories, created and listed as image volumes",
		decode: listKey(func(f *File) *List { return &f.Mounts }, false, checkAbs), normalize: func(f *File) any { return items(f.Mounts) }},
	{Name: "entrypoint", Applies: ForAll, Doc: "the image's Entrypoint, replacing the inherited one",
		decode: listKey(func(f *File) *List { return &f.Entrypoint }, false, nil), normalize: func(f *File) any { return items(f.Entrypoint) }},
	{Name: "cmd", Applies: ForAll, Doc: "the image's Cmd, replacing the inherited one",
		decode: listKey(func(f *File) *List { return &f.Cmd }, false, nil), normalize: func(f *File) any { return items(f.Cmd) }},
	{Name: "dir", Applies: ForAll, Doc: "the working directory, absolute; created in the image",
		decode: func(p *parser, f *File, n *yaml.Node, field string) (err error) {
			f.Dir, err = p.str(n, field)
			if err == nil && f.Dir.Value != "" && f.Dir.Value != "/" {
				if cerr := checkAbs(f.Dir.Value); cerr != nil {
					err = p.errorf(f.Dir.Pos, field, "%v", cerr)
				}
			}
			return err
		},
		normalize: func(f *File) any { return text(f.Dir.Value) }},
	{Name: "env", Applies: ForAll, Doc: "K=V items (or a map), replacing the inherited environment",
		decode:    into(func(f *File) *List { return &f.Env }, (*parser).env),
		normalize: func(f *File) any { return items(f.Env) }},
	{Name: "labels", Applies: ForAll, Doc: "a map of image labels, replacing the inherited ones",
		decode: func(p *parser, f *File, n *yaml.Node, field string) error { return p.labels(f, n, field) },
		normalize: func(f *File) any {
			if len(f.Labels) == 0 {
				return nil
			}
			m := map[string]string{}
			for _, kv := range f.Labels {
				m[kv.Key.Value] = kv.Value.Value
			}
			return m
		}},
	{Name: "ports", Applies: ForAll, Doc: "exposed ports, a map or a list; 80 means 80/tcp",
		decode:    into(func(f *File) *List { return &f.Ports }, (*parser).ports),
		normalize: func(f *File) any { return items(f.Ports) }},
	{Name: "mock", Applies: ForAll, Doc: "the original mock section: deps adds packages, the other keys fail with a message", Sub: mockKeys,
		decode: func(p *parser, f *File, n *yaml.Node, field string) error { return p.mock(f, n, field) },
		normalize: func(f *File) any {
			if !f.Mock.Set {
				return nil
			}
			return object{f, mockKeys}
		}},
	{Name: "installer", Applies: ForMock, Doc: "the image that runs dnf",
		decode: strKey(func(f *File) *String { return &f.Installer }), normalize: func(f *File) any { return text(Redact(f.Installer.Value)) }},
	{Name: "releasever", Applies: ForMock, Doc: "dnf's $releasever (default: the installer's)",
		decode: strKey(func(f *File) *String { return &f.Releasever }), normalize: func(f *File) any { return text(f.Releasever.Value) }},
	{Name: "repos", Applies: ForMock, Doc: "repositories to install from, besides the installer's own",
		decode: func(p *parser, f *File, n *yaml.Node, field string) error { return p.repos(f, n, field) },
		normalize: func(f *File) any {
			if len(f.Repos) == 0 {
				return nil
			}
			out := make([]normalizedRepo, len(f.Repos))
			for i, r := range f.Repos {
				out[i] = normalizedRepo{Name: r.Name.Value, BaseURL: Redact(r.BaseURL.Value),
					GPGKey: Redact(r.GPGKey.Value), GPGCheck: r.CheckSignatures()}
			}
			return out
		}},
	{Name: "installer_repos", Applies: ForMock, Doc: "false uses only repos, not the installer's",
		decode: boolKey(func(f *File) *Bool { return &f.InstallerRepos }), normalize: func(f *File) any { return setFlag(f.InstallerRepos) }},
	{Name: "localpkg_gpgcheck", Applies: ForMock, Doc: "false stops checking the signatures of RPM files from the build context",
		decode: boolKey(func(f *File) *Bool { return &f.LocalGPGCheck }), normalize: func(f *File) any { return setFlag(f.LocalGPGCheck) }},
	{Name: "charsets", Applies: ForAll, Doc: "the charsets iconv can convert when a program calls iconv_open; [] brings none",
		decode: listKey(func(f *File) *List { return &f.Charsets }, false, checkCharset), normalize: func(f *File) any { return items(f.Charsets) }},
	{Name: "dlopen", Applies: ForAll, Doc: "the lowest .note.dlopen priority that joins the closure (default required)",
		decode:    into(func(f *File) *String { return &f.Dlopen }, (*parser).dlopenLevel),
		normalize: func(f *File) any { return text(f.Dlopen.Value) }},
	{Name: "cacerts", Applies: ForAll, Doc: "false keeps the CA bundle out",
		decode: boolKey(func(f *File) *Bool { return &f.CACerts }), normalize: func(f *File) any { return setFlag(f.CACerts) }},
	{Name: "probe", Applies: ForAll, Doc: "commands run against the finished image during the build",
		decode: into(func(f *File) *[]Probe { return &f.Probes }, (*parser).probes),
		normalize: func(f *File) any {
			if len(f.Probes) == 0 {
				return nil
			}
			out := make([]normalizedProbe, len(f.Probes))
			for i, pr := range f.Probes {
				out[i] = normalizedProbe{Run: pr.Run.Values(), Exit: pr.Exit,
					Output: pr.Output.Value, Stdin: pr.Stdin.Value, Network: pr.Network.Value}
			}
			return out
		}},
	{Name: "packagedb", Applies: ForAll, Doc: "false leaves out the package record scanners read",
		decode: boolKey(func(f *File) *Bool { return &f.PackageDB }), normalize: func(f *File) any { return setFlag(f.PackageDB) }},
	{Name: "emulate", Applies: ForMock, Doc: "true runs the installer for the target platform, scriptlets and all",
		decode: boolKey(func(f *File) *Bool { return &f.Emulate }), normalize: func(f *File) any { return flag(f.Emulate) }},
}

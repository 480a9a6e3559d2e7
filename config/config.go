package config

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// String is a scalar value; numbers and booleans keep their literal text.
type String struct {
	Value string
	Pos   Pos // position of the value node
	Set   bool
	// Index is the item's place in its YAML list (lists may skip empty
	// items, so it can differ from the place in List.Items).
	Index int
}

// Bool is a true/false value.
type Bool struct {
	Value bool
	Pos   Pos // position of the value node
	Set   bool
}

// List is a list of strings. Set tells an absent key from an empty list.
type List struct {
	Items []String
	Pos   Pos // position of the value node
	Set   bool
}

// Values returns the items' values.
func (l List) Values() []string {
	if len(l.Items) == 0 {
		return nil
	}
	out := make([]string, len(l.Items))
	for i, it := range l.Items {
		out[i] = it.Value
	}
	return out
}

// KeyValue is one entry of a mapping, such as a label.
type KeyValue struct{ Key, Value String }

// Mock is the mock: section of smith.yaml.
type Mock struct {
	Config, PreBuild, PostBuild String // config, pre-build, post-build
	Deps, Debugdeps, Debugpaths List   // deps, debugdeps, debugpaths
	Debuginfo                   Bool   // debuginfo
	Pos                         Pos    // position of the mapping
	Set                         bool
}

// File is a parsed and validated smith.yaml.
type File struct {
	// Name is the file name given to Parse, used in errors.
	Name string
	// Type is "oci" or "mock". Set is true only when the file says so;
	// otherwise Value is detected from the first package item (see
	// DetectType) and Pos is the package's, or Value is "" without package.
	Type String
	// Package accepts a string or a list; a string becomes a one-item list.
	Package         List
	Paths, Excludes List
	Parent          String
	NSS, Root       Bool
	User            String
	Groups, Mounts  List
	Entrypoint, Cmd List
	Dir             String
	Env             List // "K=V" items, in document order
	Labels          []KeyValue
	LabelsPos       Pos
	LabelsSet       bool
	Ports           List // normalized as "80/tcp", deduplicated
	Mock            Mock
	// RPM installs (type mock).
	Installer      String // the image that runs dnf
	Releasever     String // dnf's $releasever; default: the installer's
	Repos          []Repo
	InstallerRepos Bool // use the installer's own repos too (default true)
	LocalGPGCheck  Bool // localpkg_gpgcheck: verify local RPM files (default true)
	// What smith infers beyond DT_NEEDED, and the probe that checks it.
	Charsets List    // gconv charsets iconv(3) can use; unset means config.DefaultCharsets
	Dlopen   String  // lowest .note.dlopen priority that joins the closure (default required)
	CACerts  Bool    // cacerts: bring the CA bundle for TLS libraries (default true)
	Probes   []Probe // probe: commands run against the finished image
	// PackageDB: write the package record scanners read into the image
	// (default true).
	PackageDB Bool
	// Emulate runs the installer for the target platform (scriptlets
	// included; needs emulation on the builder) instead of natively with
	// dnf --forcearch.
	Emulate Bool
	Keys    map[string]Pos // position of each top-level key present
	// Source, ParentRef and InstallerRef are the images that package (of
	// type oci), parent and installer name, parsed once; the zero ImageRef
	// when there is none. A type mock file without installer gets
	// DefaultInstaller, at the position of package.
	Source, ParentRef, InstallerRef ImageRef
}

type parser struct {
	name   string
	limits Limits
}

// Parse decodes and validates smith.yaml with DefaultLimits. name is used
// in error messages. An empty document (or one with only comments) gives a
// File with only Name set. Errors are *Error (or *SizeError); only the
// first problem found is reported.
func Parse(name string, data []byte) (*File, error) {
	return ParseLimits(name, data, DefaultLimits)
}

// ParseLimits is Parse with other limits; zero fields are unlimited.
func ParseLimits(name string, data []byte, limits Limits) (*File, error) {
	p := &parser{name: name, limits: limits}
	f := &File{Name: name}
	if limits.Bytes > 0 && len(data) > limits.Bytes {
		return nil, &SizeError{File: name, Size: len(data), Limit: limits.Bytes}
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		if n := docRoot(&extra); n != nil && !isNull(n) {
			return nil, p.errorf(posOf(n), "", "only one YAML document is allowed")
		}
	} else if !errors.Is(err, io.EOF) {
		return nil, p.yamlError(err)
	}

	root := docRoot(&doc)
	if root == nil || isNull(root) {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(posOf(root), "", "expected a mapping at the top level, got %s", describe(root))
	}
	if err := p.file(f, root); err != nil {
		return nil, err
	}
	return f, nil
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return resolve(doc.Content[0])
	}
	if doc.Kind == 0 {
		return nil
	}
	return resolve(doc)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlError turns a gopkg.in/yaml.v3 syntax error into an *Error,
// recovering the line from its message when it has one.
func (p *parser) yamlError(err error) *Error {
	msg := err.Error()
	var pos Pos
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// yaml.v3 reports parser errors (unlike scanner errors) with a 0-based
	// line, and leaves the line out when it is 0.
	if yamlParserProblems[msg] {
		pos.Line++
	}
	return p.errorf(pos, "", "invalid YAML: %s", msg)
}

var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func (p *parser) file(f *File, root *yaml.Node) error {
	entries, err := p.entries(root, "")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if f.Keys == nil {
			f.Keys = make(map[string]Pos)
		}
		f.Keys[e.key] = posOf(e.keyNode)
		if err := p.topField(f, e); err != nil {
			return err
		}
	}

	if !f.Type.Set && len(f.Package.Items) > 0 {
		f.Type = String{Value: DetectType(f.Package.Items[0].Value), Pos: f.Package.Pos}
	}
	return p.validate(f)
}

// images parses the image references of f.
func (p *parser) images(f *File) (err error) {
	if f.Type.Value == TypeOCI && len(f.Package.Items) > 0 {
		if f.Source, err = p.imageRef(f.Package.Items[0], "package"); err != nil {
			return err
		}
	}
	if f.Parent.Value != "" {
		if f.ParentRef, err = p.imageRef(f.Parent, "parent"); err != nil {
			return err
		}
	}
	if f.Type.Value == TypeMock {
		installer := f.Installer
		if installer.Value == "" {
			installer = String{Value: DefaultInstaller, Pos: f.Package.Pos}
		}
		if f.InstallerRef, err = p.imageRef(installer, "installer"); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) topField(f *File, e entry) error {
	k, ok := lookupKey(topKeys, e.key)
	if !ok {
		return p.unknownKey(e, "", keyNames(topKeys))
	}
	return k.decode(p, f, e.val, k.Name)
}

func (p *parser) unknownKey(e entry, field string, known []string) error {
	msg := strconv.Quote(e.key)
	if s := suggest(e.key, known); s != "" {
		return p.errorf(posOf(e.keyNode), field, "unknown key %s (did you mean %q?)", msg, s)
	}
	return p.errorf(posOf(e.keyNode), field, "unknown key %s", msg)
}

func (p *parser) typ(n *yaml.Node, field string) (String, error) {
	s, err := p.str(n, field)
	if err != nil || s.Value == "" {
		// An empty type means "detect", as it always has.
		return String{}, err
	}
	switch s.Value {
	case TypeOCI, "container":
		s.Value = TypeOCI
	case TypeMock:
	default:
		return String{}, p.errorf(s.Pos, field, "unknown type %q (want oci or mock)", s.Value)
	}
	return s, nil
}

func (p *parser) pkg(n *yaml.Node, field string) (List, error) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		l := List{Pos: posOf(n), Set: true}
		if n.Value != "" {
			l.Items = []String{{Value: n.Value, Pos: posOf(n), Set: true}}
		}
		return l, nil
	}
	if n.Kind == yaml.MappingNode {
		return List{}, p.errorf(posOf(n), field, "expected a string or a list of strings, got %s", describe(n))
	}
	return p.list(n, field, true, nil)
}

// mock decodes the mock: mapping into f.Mock.
func (p *parser) mock(f *File, n *yaml.Node, field string) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(posOf(n), field, "expected a mapping, got %s", describe(n))
	}
	f.Mock = Mock{Pos: posOf(n), Set: true}
	entries, err := p.entries(n, field)
	if err != nil {
		return err
	}
	for _, e := range entries {
		k, ok := lookupKey(mockKeys, e.key)
		if !ok {
			return p.unknownKey(e, field, keyNames(mockKeys))
		}
		if err := k.decode(p, f, e.val, field+"."+e.key); err != nil {
			return err
		}
	}
	return nil
}

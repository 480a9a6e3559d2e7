package config

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// resolve follows YAML aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the shape of n for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unsupported YAML node"
}

func indexField(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

type entry struct {
	key          string
	keyNode, val *yaml.Node
}

// entries lists the key/value pairs of mapping m in document order,
// rejecting non-scalar keys, merge keys and duplicates.
func (p *parser) entries(m *yaml.Node, field string) ([]entry, error) {
	out := make([]entry, 0, len(m.Content)/2)
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, vn := resolve(m.Content[i]), m.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			return nil, p.errorf(posOf(kn), field, "expected a string key, got %s", describe(kn))
		}
		if kn.ShortTag() == "!!merge" {
			return nil, p.errorf(posOf(kn), field, "merge keys (<<) are not supported")
		}
		if first, ok := seen[kn.Value]; ok {
			return nil, p.errorf(posOf(kn), field, "duplicate key %q (first defined on line %d)", kn.Value, first.Line)
		}
		seen[kn.Value] = kn
		if err := p.checkScalar(posOf(kn), field, kn.Value); err != nil {
			return nil, err
		}
		out = append(out, entry{key: kn.Value, keyNode: kn, val: vn})
	}
	return out, nil
}

// str decodes a scalar; numbers and booleans keep their literal text, and
// null means "not set".
func (p *parser) str(n *yaml.Node, field string) (String, error) {
	n = resolve(n)
	if isNull(n) {
		return String{}, nil
	}
	if n.Kind != yaml.ScalarNode {
		return String{}, p.errorf(posOf(n), field, "expected a string, got %s", describe(n))
	}
	if err := p.checkScalar(posOf(n), field, n.Value); err != nil {
		return String{}, err
	}
	return String{Value: n.Value, Pos: posOf(n), Set: true}, nil
}

// boolean decodes true/false. Like gopkg.in/yaml.v3 decoding into a bool,
// it also takes the YAML 1.1 spellings (yes, no, on, off, y, n) when unquoted.
func (p *parser) boolean(n *yaml.Node, field string) (Bool, error) {
	n = resolve(n)
	if isNull(n) {
		return Bool{}, nil
	}
	if n.Kind != yaml.ScalarNode {
		return Bool{}, p.errorf(posOf(n), field, "expected true or false, got %s", describe(n))
	}
	if b, ok := parseBool(n); ok {
		return Bool{Value: b, Pos: posOf(n), Set: true}, nil
	}
	return Bool{}, p.errorf(posOf(n), field, "expected true or false")
}

func parseBool(n *yaml.Node) (bool, bool) {
	if n.ShortTag() == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		return b, err == nil
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		return false, false
	}
	switch n.Value {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

// list decodes a list of scalars. skipEmpty drops "" items, as smith always
// did for paths. check, if not nil, validates each kept item; its error
// becomes the message of an *Error at the item.
func (p *parser) list(n *yaml.Node, field string, skipEmpty bool, check func(string) error) (List, error) {
	n = resolve(n)
	if isNull(n) {
		return List{}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return List{}, p.errorf(posOf(n), field, "expected a list of strings, got %s", describe(n))
	}
	l := List{Pos: posOf(n), Set: true}
	for i, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || isNull(c) {
			return List{}, p.errorf(posOf(c), indexField(field, i), "expected a string, got %s", describe(c))
		}
		if skipEmpty && c.Value == "" {
			continue
		}
		if err := p.checkScalar(posOf(c), indexField(field, i), c.Value); err != nil {
			return List{}, err
		}
		if check != nil {
			if err := check(c.Value); err != nil {
				return List{}, p.errorf(posOf(c), indexField(field, i), "%v", err)
			}
		}
		l.Items = append(l.Items, String{Value: c.Value, Pos: posOf(c), Set: true, Index: i})
	}
	return l, nil
}

// checkGlob rejects patterns that path.Match cannot use. The file name is
// irrelevant: Match checks the whole pattern even when it does not match.
func checkGlob(pattern string) error {
	if _, err := path.Match(pattern, ""); errors.Is(err, path.ErrBadPattern) {
		return fmt.Errorf("malformed glob %q: %v", pattern, err)
	}
	return nil
}

// checkAbs accepts a clean absolute path below the root, as mounts and
// dir must be: no "..", no "." and no empty components.
func checkAbs(s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("%q is not an absolute path", s)
	}
	if s == "/" {
		return fmt.Errorf("%q is the root itself", s)
	}
	if c := path.Clean(s); c != s && c+"/" != s {
		return fmt.Errorf("%q is not a clean path: write %q", s, c)
	}
	return nil
}

func checkEnv(s string) error {
	name, _, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q is not NAME=VALUE", s)
	}
	if name == "" {
		return fmt.Errorf("%q has an empty name", s)
	}
	return nil
}

// env takes the list form ["K=V"] or, as an extension, a mapping {K: V},
// which becomes "K=V" items in document order.
func (p *parser) env(n *yaml.Node, field string) (List, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			return List{}, p.errorf(posOf(n), field, "expected a list of NAME=VALUE strings or a mapping, got %s", describe(n))
		}
		return p.list(n, field, false, checkEnv)
	}
	entries, err := p.entries(n, field)
	if err != nil {
		return List{}, err
	}
	l := List{Pos: posOf(n), Set: true}
	for _, e := range entries {
		k := field + "." + e.key
		if e.key == "" || strings.Contains(e.key, "=") {
			return List{}, p.errorf(posOf(e.keyNode), field, "%q is not a valid variable name", e.key)
		}
		v, err := p.str(e.val, k)
		if err != nil {
			return List{}, err
		}
		l.Items = append(l.Items, String{Value: e.key + "=" + v.Value, Pos: posOf(e.keyNode), Set: true, Index: len(l.Items)})
	}
	return l, nil
}

// labels takes a mapping; scalar values keep their literal text and null
// is the empty string.
func (p *parser) labels(f *File, n *yaml.Node, field string) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(posOf(n), field, "expected a mapping of strings, got %s", describe(n))
	}
	entries, err := p.entries(n, field)
	if err != nil {
		return err
	}
	f.LabelsPos, f.LabelsSet = posOf(n), true
	for _, e := range entries {
		if e.key == "" {
			return p.errorf(posOf(e.keyNode), field, "empty label name")
		}
		v, err := p.str(e.val, field+"."+e.key)
		if err != nil {
			return err
		}
		if !v.Set {
			v = String{Pos: posOf(resolve(e.val)), Set: true}
		}
		f.Labels = append(f.Labels, KeyValue{
			Key:   String{Value: e.key, Pos: posOf(e.keyNode), Set: true},
			Value: v,
		})
	}
	return nil
}

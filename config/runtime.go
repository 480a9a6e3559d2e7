package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Dlopen levels: the lowest .note.dlopen priority whose libraries join the
// closure.
const (
	DlopenRequired    = "required"
	DlopenRecommended = "recommended"
	DlopenSuggested   = "suggested"
	DlopenNone        = "none"
)

// Probe is one entry of smith.yaml's probe: a command run against the
// finished image during the build.
type Probe struct {
	// Run is the command and its arguments (no shell).
	Run List
	// Exit is the exit code the command must return (default 0).
	Exit int
	// Output, when set, must occur in the command's output (stdout and
	// stderr together).
	Output String
	// Stdin is fed to the command.
	Stdin String
	// Network gives the command the build's network (default none).
	Network Bool
	Pos     Pos
	Index   int
}

var probeKeys = []itemKey[Probe]{
	{"run", into(func(pr *Probe) *List { return &pr.Run }, func(p *parser, n *yaml.Node, field string) (List, error) {
		return p.list(n, field, false, nil)
	})},
	{"exit", func(p *parser, pr *Probe, n *yaml.Node, field string) error {
		s, err := p.str(n, field)
		if err == nil && s.Set {
			pr.Exit, err = p.exitCode(s, field)
		}
		return err
	}},
	{"output", into(func(pr *Probe) *String { return &pr.Output }, (*parser).str)},
	{"stdin", into(func(pr *Probe) *String { return &pr.Stdin }, (*parser).str)},
	{"network", into(func(pr *Probe) *Bool { return &pr.Network }, (*parser).boolean)},
}

// dlopenLevel decodes `dlopen`.
func (p *parser) dlopenLevel(n *yaml.Node, field string) (String, error) {
	s, err := p.str(n, field)
	if err != nil || !s.Set {
		return s, err
	}
	switch s.Value = strings.ToLower(s.Value); s.Value {
	case DlopenRequired, DlopenRecommended, DlopenSuggested, DlopenNone:
		return s, nil
	}
	return String{}, p.errorf(s.Pos, field, "unknown dlopen level %q (want required, recommended, suggested or none)", s.Value)
}

// probes decodes `probe`: a list whose items are either a command (a list
// of strings) or a mapping with run and the expectations.
func (p *parser) probes(n *yaml.Node, field string) ([]Probe, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(posOf(n), field, "expected a list of commands, got %s", describe(n))
	}
	var out []Probe
	for i, c := range n.Content {
		c = resolve(c)
		f := indexField(field, i)
		pr := Probe{Pos: posOf(c), Index: i}
		switch c.Kind {
		case yaml.SequenceNode:
			run, err := p.list(c, f, false, nil)
			if err != nil {
				return nil, err
			}
			pr.Run = run
		case yaml.MappingNode:
			entries, err := p.entries(c, f)
			if err != nil {
				return nil, err
			}
			if err := decodeItem(p, entries, f, probeKeys, &pr); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf(posOf(c), f, "expected a command (a list of strings) or a mapping with run, got %s", describe(c))
		}
		if len(pr.Run.Items) == 0 {
			return nil, p.errorf(posOf(c), f, "needs a command to run")
		}
		if pr.Run.Items[0].Value == "" {
			return nil, p.errorf(pr.Run.Items[0].Pos, f, "the command is empty")
		}
		out = append(out, pr)
	}
	return out, nil
}

func (p *parser) exitCode(s String, field string) (int, error) {
	n := 0
	for _, c := range s.Value {
		if c < '0' || c > '9' || n > 255 {
			return 0, p.errorf(s.Pos, field, "exit code %q: want 0..255", s.Value)
		}
		n = n*10 + int(c-'0')
	}
	if s.Value == "" || n > 255 {
		return 0, p.errorf(s.Pos, field, "exit code %q: want 0..255", s.Value)
	}
	return n, nil
}

// CharsetsAll in charsets brings every gconv module.
const CharsetsAll = "all"

func checkCharset(s string) error {
	if s == "" || strings.ContainsAny(s, "/ \t\n") {
		return fmt.Errorf("bad charset name %q: want a name such as ISO-8859-1, or all", s)
	}
	return nil
}

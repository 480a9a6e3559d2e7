package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ports takes the original map form {"80/tcp": {}} (values null or {}) or,
// as an extension, a list [80, "53/udp"]. Items are normalized to
// "port/proto" (tcp by default) and deduplicated in first-seen order.
func (p *parser) ports(n *yaml.Node, field string) (List, error) {
	n = resolve(n)
	if isNull(n) {
		return List{}, nil
	}
	l := List{Pos: posOf(n), Set: true}
	seen := make(map[string]bool)
	index := -1
	add := func(item *yaml.Node, itemField string) error {
		index++
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return p.errorf(posOf(item), itemField, "expected a port, got %s", describe(item))
		}
		norm, err := normalizePort(item.Value)
		if err != nil {
			return p.errorf(posOf(item), itemField, "%v", err)
		}
		if !seen[norm] {
			seen[norm] = true
			l.Items = append(l.Items, String{Value: norm, Pos: posOf(item), Set: true, Index: index})
		}
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		entries, err := p.entries(n, field)
		if err != nil {
			return List{}, err
		}
		for _, e := range entries {
			itemField := field + "." + e.key
			if err := add(e.keyNode, itemField); err != nil {
				return List{}, err
			}
			v := resolve(e.val)
			if !isNull(v) && (v.Kind != yaml.MappingNode || len(v.Content) > 0) {
				return List{}, p.errorf(posOf(v), itemField, "expected {} or nothing, got %s", describe(v))
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := add(resolve(c), indexField(field, i)); err != nil {
				return List{}, err
			}
		}
	default:
		return List{}, p.errorf(posOf(n), field, "expected a mapping or a list of ports, got %s", describe(n))
	}
	return l, nil
}

// normalizePort turns "80", "80/TCP" or "8000-8010/udp" into the canonical
// "80/tcp" form, checking the numbers and the protocol.
func normalizePort(s string) (string, error) {
	num, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	lo, hi, isRange := strings.Cut(num, "-")
	first, err := portNumber(lo, s)
	if err != nil {
		return "", err
	}
	norm := strconv.Itoa(first)
	if isRange {
		last, err := portNumber(hi, s)
		if err != nil {
			return "", err
		}
		if last < first {
			return "", fmt.Errorf("%q is not a valid port range", s)
		}
		norm += "-" + strconv.Itoa(last)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("unknown protocol %q in %q (want tcp, udp or sctp)", proto, s)
	}
	return norm + "/" + proto, nil
}

func portNumber(s, whole string) (int, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a port number", whole)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d in %q is out of range (1-65535)", n, whole)
	}
	return n, nil
}

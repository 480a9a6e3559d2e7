package config

import "gopkg.in/yaml.v3"

// itemKey is one key of a mapping inside a list (a repository, a probe):
// its name and how its value decodes into the item *T. field is the key's
// path in errors ("repos[0].gpgkey").
type itemKey[T any] struct {
	name   string
	decode func(p *parser, item *T, n *yaml.Node, field string) error
}

// itemKeyNames lists the keys of an item table, for did-you-mean and the
// README test.
func itemKeyNames[T any](keys []itemKey[T]) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return names
}

// decodeItem decodes the entries of the mapping item (field f) into *item
// by its key table; an unknown key fails with a did-you-mean hint.
func decodeItem[T any](p *parser, entries []entry, f string, keys []itemKey[T], item *T) error {
	for _, e := range entries {
		found := false
		for _, k := range keys {
			if k.name == e.key {
				if err := k.decode(p, item, e.val, f+"."+e.key); err != nil {
					return err
				}
				found = true
				break
			}
		}
		if !found {
			return p.unknownKey(e, f, itemKeyNames(keys))
		}
	}
	return nil
}

package config

import "gopkg.in/yaml.v3"

// itemKey is one key of a mapping inside a list (a repository, a probe):
// its name and how its value decodes into the item *T. field is the key's
// path in errors ("repos[0].gpgkey").
type itemKey[T any] struct {
	name   string
	decode func(p *parser, n *yaml.Node, field string, item *T) error
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
				if err := k.decode(p, e.val, f+"."+e.key, item); err != nil {
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

// itemStr, itemBool and itemSecret make the decoder of a key whose value
// is a string, a boolean or a secret id, stored by set.
func itemStr[T any](set func(*T) *String) func(*parser, *yaml.Node, string, *T) error {
	return func(p *parser, n *yaml.Node, field string, item *T) (err error) {
		*set(item), err = p.str(n, field)
		return err
	}
}

func itemBool[T any](set func(*T) *Bool) func(*parser, *yaml.Node, string, *T) error {
	return func(p *parser, n *yaml.Node, field string, item *T) (err error) {
		*set(item), err = p.boolean(n, field)
		return err
	}
}

func itemSecret[T any](set func(*T) *String) func(*parser, *yaml.Node, string, *T) error {
	return func(p *parser, n *yaml.Node, field string, item *T) (err error) {
		*set(item), err = p.secretName(n, field)
		return err
	}
}

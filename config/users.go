package config

import (
	"errors"

	"github.com/smithbuild/smith/nss"
)

// NSSInput is what package nss resolves the runtime user and the user
// database files from: user, groups and nss as f has them.
func (f *File) NSSInput() nss.Input {
	return nss.Input{User: f.User.Value, Groups: f.Groups.Values(), NSS: f.NSS.Value}
}

// users checks user and groups: nss owns their meaning (the user spec, the
// built-in users and groups, the id allocation), so the check is resolving
// them. Its *nss.Error becomes an *Error at the offending value: the user,
// or the item of groups at fault.
func (p *parser) users(f *File) error {
	_, err := nss.Resolve(f.NSSInput())
	var ne *nss.Error
	if !errors.As(err, &ne) {
		return err
	}
	pos, field := f.User.Pos, ne.Item()
	if ne.Field == "groups" && ne.Index < len(f.Groups.Items) {
		g := f.Groups.Items[ne.Index]
		pos, field = g.Pos, indexField("groups", g.Index)
	}
	return p.errorf(pos, field, "%s", ne.Msg)
}

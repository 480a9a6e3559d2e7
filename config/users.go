package config

import (
	"errors"

	"github.com/smithbuild/smith/internal/passwd"
)

// PasswdInput is what package internal/passwd resolves the runtime user and
// the user database files from: user, groups and nss as f has them. (smith's
// own llbgen calls it; passwd.Input is not for use outside smith.)
func (f *File) PasswdInput() passwd.Input {
	return passwd.Input{User: f.User.Value, Groups: f.Groups.Values(), NSS: f.NSS.Value}
}

// users checks user and groups: passwd owns their meaning (the user spec, the
// built-in users and groups, the id allocation), so the check is resolving
// them. Its *passwd.Error becomes an *Error at the offending value: the user,
// or the item of groups at fault.
func (p *parser) users(f *File) error {
	_, err := passwd.Resolve(f.PasswdInput())
	var ne *passwd.Error
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

package config

import (
	"regexp"
	"slices"
	"strings"
)

// validate runs the checks that look at more than one key, once every key
// is decoded: Parse is smith.yaml's one validation pass, for the build and
// for --check alike. What it cannot check needs fetched data (an image's
// files, smith.lock) and is checked where that arrives.
func (p *parser) validate(f *File) error {
	if n := len(f.Paths.Items); p.limits.Paths > 0 && n > p.limits.Paths {
		return p.errorf(f.Keys["paths"], "paths", "%d entries; the limit is %d (raise it with --build-arg %s=N)", n, p.limits.Paths, LimitArgs.Paths)
	}
	if len(f.Paths.Items) > 0 && len(f.Package.Items) == 0 && len(f.Mock.Deps.Items) == 0 {
		return p.errorf(f.Keys["paths"], "paths", "needs a package to copy from")
	}
	if f.Type.Value == TypeMock {
		if err := p.packages(f.Package, "package"); err != nil {
			return err
		}
	}
	if err := p.packages(f.Mock.Deps, "mock.deps"); err != nil {
		return err
	}
	if err := p.supported(f); err != nil {
		return err
	}
	if f.Type.Value == TypeMock {
		if err := p.installable(f); err != nil {
			return err
		}
	}
	if err := p.images(f); err != nil {
		return err
	}
	return p.users(f)
}

// packages checks the items of package (type mock) or mock.deps: RPM
// files inside the build context, or names dnf can only read as package
// specs.
func (p *parser) packages(l List, field string) error {
	for i, it := range l.Items {
		if IsLocalRPM(it.Value) {
			if _, err := ContextPath(it.Value); err != nil {
				return p.errorf(it.Pos, indexField(field, i), "%v", err)
			}
		} else if !packageName(it.Value) {
			return p.errorf(it.Pos, indexField(field, i), "%q is not a package name", it.Value)
		}
	}
	return nil
}

// packageName accepts what dnf can only read as a package spec: not an
// option ("-x"), nothing the install script would have to quote.
func packageName(s string) bool {
	return !strings.ContainsAny(s, "'\n\\") && !strings.HasPrefix(s, "-")
}

// supported rejects values that parse but that smith does not implement
// (yet), or that mean nothing for the package type, instead of silently
// ignoring them.
func (p *parser) supported(f *File) error {
	if f.Type.Value == TypeOCI && len(f.Package.Items) > 1 {
		return p.errorf(f.Package.Items[1].Pos, indexField("package", 1), "type oci takes exactly one image")
	}
	m := f.Mock
	for _, s := range []String{m.Config, m.PreBuild, m.PostBuild} {
		if s.Value != "" {
			return p.errorf(s.Pos, "mock", "mock.config, pre-build and post-build are not implemented: smith installs with dnf (see installer and repos)")
		}
	}
	if m.Debuginfo.Value || len(m.Debugdeps.Items)+len(m.Debugpaths.Items) > 0 {
		return p.errorf(f.Keys["mock"], "mock", "debuginfo images are not implemented yet")
	}
	if f.Type.Value == TypeOCI {
		for _, k := range topKeys {
			if pos, ok := f.Keys[k.Name]; ok && !k.AppliesTo(TypeOCI) {
				return p.errorf(pos, k.Name, "only applies to RPM installs (type mock), but the package is an image")
			}
		}
	}
	return nil
}

// safeContextPath limits local RPM paths and globs to characters that need
// no quoting in the install script.
var safeContextPath = regexp.MustCompile(`^[A-Za-z0-9._/*?\[\]+@%=,~-]+$`)

// installable checks what the install step of type mock needs: something
// to install, and local RPM paths the install script can use unquoted.
func (p *parser) installable(f *File) error {
	all := slices.Concat(f.Mock.Deps.Items, f.Package.Items)
	if len(all) == 0 {
		return p.errorf(f.Keys["package"], "package", "no package to install")
	}
	for _, it := range all {
		if IsLocalRPM(it.Value) && !safeContextPath.MatchString(it.Value) {
			return p.errorf(it.Pos, "package", "%q: local RPM paths may use letters, digits, glob characters and . _ / + @ %% = , ~ -", it.Value)
		}
	}
	return nil
}

// Lockable reports why smith.lock cannot pin f's install, or nil: a lock
// pins RPM installs only, and fetches locked RPMs with an Authorization
// header at most. Only a build that writes the lock asks.
func (f *File) Lockable() error {
	if f.Type.Value != TypeMock {
		return &Error{File: f.Name, Pos: f.Keys["package"], Field: "package",
			Msg: "smith.lock pins RPM installs; this package is an image (pin it by digest instead)"}
	}
	for _, r := range f.Repos {
		if r.ClientCert.Set {
			return &Error{File: f.Name, Pos: r.Pos, Field: indexField("repos", r.Index),
				Msg: "smith.lock cannot pin packages of a repository that needs a client certificate: BuildKit fetches locked RPMs with an Authorization header only (secret:); build it unlocked"}
		}
	}
	return nil
}

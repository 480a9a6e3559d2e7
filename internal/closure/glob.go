package closure

import (
	"io/fs"
	"path"
	"sort"
	"strings"
)

// glob expands the absolute clean pattern inside the root. Directory
// components are resolved with follow, so "/bin/*" works when bin is a link
// (absolute or relative) and never looks at the build machine. The matches
// are logical paths, spelled as the pattern spells them; the last component
// is not followed, so a dangling link still matches.
func (r *resolver) glob(pattern string) ([]string, error) {
	if pattern == "/" {
		return []string{"/"}, nil
	}
	comps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	cur := []string{"/"}
	for i, c := range comps {
		last := i == len(comps)-1
		var next []string
		for _, dir := range cur {
			phys, _, err := r.follow(dir)
			if err != nil {
				if missing(err) {
					continue
				}
				return nil, err
			}
			if !hasMeta(c) {
				ok, err := r.globKeep(path.Join(phys, c), last)
				if err != nil {
					return nil, err
				}
				if ok {
					next = append(next, path.Join(dir, c))
				}
				continue
			}
			ents, err := fs.ReadDir(r.fsys, fsName(phys))
			if err != nil {
				continue // not a directory, or unreadable: nothing matches
			}
			for _, de := range ents {
				if ok, _ := matchPath(c, de.Name()); !ok {
					continue
				}
				ok, err := r.globKeep(path.Join(phys, de.Name()), last)
				if err != nil {
					return nil, err
				}
				if ok {
					next = append(next, path.Join(dir, de.Name()))
				}
			}
		}
		cur = next
	}
	sort.Strings(cur)
	return dedupe(cur), nil
}

// globKeep says whether the physical-parent path p can continue a match: the
// last component only has to exist, a middle one must lead to a directory.
func (r *resolver) globKeep(p string, last bool) (bool, error) {
	if last {
		_, err := r.lstat(p)
		return err == nil, nil
	}
	phys, _, err := r.follow(p)
	if err != nil {
		if missing(err) {
			return false, nil
		}
		return false, err
	}
	fi, err := r.lstat(phys)
	return err == nil && fi.IsDir(), nil
}

func hasMeta(s string) bool {
	return strings.ContainsAny(s, `*?[\`)
}

// dedupe removes repeated strings, keeping the first of each.
func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

package closure

import (
	"debug/elf"
	"fmt"
	"path"
	"strings"
)

// trace adds the interpreter and the DT_NEEDED libraries of the physical
// file p, recursively, and the libraries its .note.dlopen metadata asks
// for. inherited holds the expanded DT_RPATH directories of the objects that
// loaded p, nearest first. origin is the Origin of the request that pulled p
// in, for error messages. A file that is not ELF but starts with "#!" gets
// its interpreter instead, when script says it may be run.
func (r *resolver) trace(p string, origin Origin, inherited []string, script bool) {
	key := p + "\x00" + strings.Join(inherited, ":")
	if r.traced[key] {
		return
	}
	r.traced[key] = true // before recursing: cycles end here

	f, err := r.readELF(p)
	if err != nil {
		r.fail(withOrigin(origin, err))
		return
	}
	if f == nil {
		if script {
			r.shebang(p, origin)
		}
		return
	}
	if f.typ != elf.ET_EXEC && f.typ != elf.ET_DYN {
		return
	}
	if !r.tracedELF[p] {
		r.tracedELF[p] = true
		r.elfOrder = append(r.elfOrder, p)
	}

	if f.interp != "" {
		ip := cleanAbs(f.interp)
		found, err := r.findLib(ip, nil)
		switch {
		case err != nil:
			r.fail(withOrigin(origin, err))
		case found == "":
			r.fail(&MissingLibraryError{Origin: origin, File: p, Soname: f.interp, Searched: []string{ip}})
		case !r.excluded(ip) && !r.excluded(found):
			r.placeLib(ip, "interpreter of "+p, origin)
			r.trace(found, origin, nil, false)
		}
	}

	dirs, childInherited := r.searchDirs(f, p, inherited)
	for _, soname := range f.needed {
		hit, found, searched, err := r.lookup(soname, dirs, f)
		if err != nil {
			r.fail(withOrigin(origin, err))
			return
		}
		if hit == "" {
			r.fail(&MissingLibraryError{Origin: origin, File: p, Soname: soname, Searched: searched})
			continue
		}
		if r.excluded(hit) || r.excluded(found) {
			continue // the user asked for it to be left out
		}
		r.placeLib(hit, fmt.Sprintf("NEEDED by %s (%s)", p, soname), origin)
		r.trace(found, origin, childInherited, false)
	}
	r.traceDlopen(f, p, origin, dirs)

	// Modules a program loads at run time (nss: true): searched like its
	// own libraries, kept when found, skipped when not.
	if f.interp != "" {
		for _, soname := range r.req.Modules {
			hit, found, _, err := r.lookup(soname, dirs, f)
			if err != nil {
				r.fail(withOrigin(origin, err))
				return
			}
			if hit == "" || r.excluded(hit) || r.excluded(found) {
				continue
			}
			r.placeLib(hit, fmt.Sprintf("module for %s (%s)", p, soname), origin)
			r.trace(found, origin, nil, false)
		}
	}
}

// searchDirs returns where ld.so looks for the libraries of the object f at
// the physical path p, and the DT_RPATH directories its own libraries
// inherit.
func (r *resolver) searchDirs(f *elfFile, p string, inherited []string) (dirs, childInherited []string) {
	a := archOf(f)
	dir := path.Dir(p)
	// ld.so ignores DT_RPATH, the object's own and its loaders', when the
	// object has DT_RUNPATH.
	var rpath, own []string
	if len(f.runpath) == 0 {
		own = expandList(f.rpath, dir, a)
		rpath = append(append(rpath, own...), inherited...)
	}
	childInherited = append(append([]string(nil), own...), inherited...)
	dirs = append(dirs, rpath...)
	dirs = append(dirs, expandList(r.req.LibraryPath, dir, a)...)
	dirs = append(dirs, expandList(f.runpath, dir, a)...)
	dirs = append(dirs, r.ldsoConf()...)
	dirs = append(dirs, a.defaultDirs()...)
	return dedupe(dirs), childInherited
}

// lookup finds soname in dirs as ld.so would for the object f: the first
// candidate that exists and is an ELF of f's class and machine. It returns
// the candidate path (symlinks kept), the physical file and the places
// searched; hit is "" when nothing matched.
func (r *resolver) lookup(soname string, dirs []string, f *elfFile) (hit, found string, searched []string, err error) {
	var cands []string
	searched = dirs
	if strings.Contains(soname, "/") {
		cands = []string{cleanAbs(soname)}
		searched = cands
	} else {
		for _, d := range dirs {
			cands = append(cands, path.Join(d, soname))
		}
	}
	for _, c := range cands {
		found, err = r.findLib(c, f)
		if err != nil {
			return "", "", searched, err
		}
		if found != "" {
			return c, found, searched, nil
		}
	}
	return "", "", searched, nil
}

func (r *resolver) placeLib(p, reason string, origin Origin) {
	if _, _, err := r.place(p, reason); err != nil {
		r.fail(withOrigin(origin, err))
	}
}

// findLib returns the physical path of the candidate c when it exists as a
// regular file inside the root and, if want is set, is an ELF object of the
// same class and machine. Broken candidates are skipped like ld.so skips
// them; only a read error that is not "missing" is returned.
func (r *resolver) findLib(c string, want *elfFile) (string, error) {
	phys, _, err := r.follow(c)
	if err != nil {
		return "", nil // missing, dangling or looping: try the next one
	}
	fi, err := r.lstat(phys)
	if err != nil || !fi.Mode().IsRegular() {
		return "", nil
	}
	if want == nil {
		return phys, nil
	}
	f, err := r.readELF(phys)
	if err != nil || f == nil {
		return "", nil
	}
	if f.class != want.class || f.machine != want.machine {
		return "", nil
	}
	return phys, nil
}

// ldsoConf returns the directories listed by /etc/ld.so.conf in the root,
// includes followed, in file order.
func (r *resolver) ldsoConf() []string {
	if !r.ldDone {
		r.ldDone = true
		seen := map[string]bool{}
		r.ldconf = dedupe(r.readLdConf("/etc/ld.so.conf", seen, 0))
	}
	return r.ldconf
}

func (r *resolver) readLdConf(file string, seen map[string]bool, depth int) []string {
	phys, _, err := r.follow(file)
	if err != nil || seen[phys] || depth > 16 {
		return nil
	}
	seen[phys] = true
	b, err := readFileAt(r, phys)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "hwcap":
			continue
		case "include":
			for _, pat := range fields[1:] {
				if !path.IsAbs(pat) {
					pat = path.Join(path.Dir(file), pat)
				}
				matches, err := r.glob(path.Clean(pat))
				if err != nil {
					continue
				}
				for _, m := range matches {
					out = append(out, r.readLdConf(m, seen, depth+1)...)
				}
			}
			continue
		}
		for _, f := range fields {
			for _, d := range strings.FieldsFunc(f, func(c rune) bool { return c == ':' || c == ',' }) {
				out = append(out, cleanAbs(d))
			}
		}
	}
	return out
}

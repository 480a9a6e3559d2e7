package closure

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// CharsetsAll in Infer.Charsets brings every gconv module.
const CharsetsAll = "all"

// DefaultCharsets are the charsets a program that calls iconv_open gets
// when Infer.Charsets is nil: the common Western single-byte sets and the
// Unicode encodings glibc does not build in.
var DefaultCharsets = []string{"ISO-8859-1", "ISO-8859-15", "CP1252", "UTF-16", "UTF-32", "UTF-7"}

// builtinCharsets are converted by glibc itself, without a module.
var builtinCharsets = map[string]bool{
	"INTERNAL": true, "ISO-10646/UCS4/": true, "UCS-4//": true, "UCS-4BE//": true, "UCS-4LE//": true,
	"ISO-10646/UTF8/": true, "UTF-8//": true, "ISO-10646/UCS2/": true, "UCS-2//": true, "UCS-2BE//": true,
	"UCS-2LE//": true, "UNICODELITTLE//": true, "UNICODEBIG//": true, "ANSI_X3.4-1968//": true,
}

// gconvConfig is the text configuration of one gconv directory.
type gconvConfig struct {
	alias   map[string]string // alias -> canonical name
	modules []gconvModule
}

// gconvModule is one module line of gconv-modules: a conversion and the
// file (absolute) that does it.
type gconvModule struct {
	from, to, file string
}

// modulesFor returns the module files that convert from or to canonical.
func (c *gconvConfig) modulesFor(canonical string) []string {
	var out []string
	for _, m := range c.modules {
		if (m.from == canonical || m.to == canonical) && !contains(out, m.file) {
			out = append(out, m.file)
		}
	}
	return out
}

// gconvDir finds the directory glibc reads gconv-modules from: libdir/gconv
// next to libc, else in one of the default library directories.
func (r *resolver) gconvDir(libc string) string {
	cands := []string{path.Join(path.Dir(libc), "gconv")}
	for _, d := range archOf(r.elfs[libc].f).defaultDirs() {
		cands = append(cands, path.Join(d, "gconv"))
	}
	for _, c := range cands {
		for _, f := range []string{"gconv-modules", "gconv-modules.cache", "gconv-modules.d"} {
			if phys, _, err := r.follow(path.Join(c, f)); err == nil {
				if _, err := r.lstat(phys); err == nil {
					d, _, _ := r.follow(c)
					return d
				}
			}
		}
	}
	return ""
}

// readGconvConfig parses dir/gconv-modules and dir/gconv-modules.d/*.conf.
func (r *resolver) readGconvConfig(dir string) (*gconvConfig, bool) {
	files := []string{path.Join(dir, "gconv-modules")}
	if ents, err := readDirNames(r, path.Join(dir, "gconv-modules.d")); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e, ".conf") {
				files = append(files, path.Join(dir, "gconv-modules.d", e))
			}
		}
	}
	c := &gconvConfig{alias: map[string]string{}}
	found := false
	for _, file := range files {
		phys, _, err := r.follow(file)
		if err != nil {
			continue
		}
		b, err := readFileAt(r, phys)
		if err != nil {
			continue
		}
		found = true
		c.parse(string(b), dir)
	}
	return c, found
}

func (c *gconvConfig) parse(text, dir string) {
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "alias":
			c.alias[strings.ToUpper(f[1])] = strings.ToUpper(f[2])
		case len(f) >= 4 && f[0] == "module":
			file := f[3]
			if !strings.HasSuffix(file, ".so") {
				file += ".so"
			}
			if !path.IsAbs(file) {
				file = path.Join(dir, file)
			}
			c.modules = append(c.modules, gconvModule{from: strings.ToUpper(f[1]), to: strings.ToUpper(f[2]), file: file})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonical returns the canonical gconv name of a charset name such as
// "latin1" ("ISO-8859-1//").
func (c *gconvConfig) canonical(name string) string {
	n := strings.ToUpper(name)
	if !strings.Contains(n, "/") {
		n += "//"
	}
	if t, ok := c.alias[n]; ok {
		return t
	}
	return n
}

// inferGconv brings the gconv configuration and the modules of the
// configured charsets when a traced object calls iconv_open.
func (r *resolver) inferGconv() {
	if r.inferred["gconv"] || r.req.Infer.Gconv == Off {
		return
	}
	by, syms := r.importers(func(s string) bool { return iconvSymbols[s] })
	libcs := r.glibcs()
	if len(syms) == 0 || len(libcs) == 0 {
		return
	}
	r.inferred["gconv"] = true
	user := by[syms[0]]
	for _, libc := range libcs {
		dir := r.gconvDir(libc)
		if dir == "" {
			r.note("%s calls iconv_open, but the source has no gconv directory: conversions beyond UTF-8 will fail", user)
			continue
		}
		r.gconv(dir, user)
	}
}

func (r *resolver) gconv(dir, user string) {
	reason := func(cs string) string {
		return fmt.Sprintf("gconv module for %s, used by %s (iconv_open)", cs, user)
	}
	charsets := r.req.Infer.Charsets
	if charsets == nil {
		charsets = DefaultCharsets
	}
	if contains(charsets, CharsetsAll) {
		if err := r.request(dir, fmt.Sprintf("gconv modules (charsets: all), used by %s (iconv_open)", user), Origin{}); err != nil {
			r.fail(err)
		}
		return
	}
	conf, ok := r.readGconvConfig(dir)
	if !ok {
		r.note("%s has no text gconv-modules configuration: bringing the whole directory", dir)
		if err := r.request(dir, reason("every charset"), Origin{}); err != nil {
			r.fail(err)
		}
		return
	}
	var shipped []string // module files
	for _, cs := range charsets {
		canon := conf.canonical(cs)
		if builtinCharsets[canon] {
			continue
		}
		mods := conf.modulesFor(canon)
		if len(mods) == 0 {
			r.note("charset %s: no gconv module for it in %s", cs, dir)
			continue
		}
		for _, m := range mods {
			phys, fi, err := r.place(m, reason(cs))
			if err != nil {
				r.fail(err)
				return
			}
			if fi == nil {
				r.note("charset %s: %s is missing from the source", cs, m)
				continue
			}
			shipped = append(shipped, m)
			r.trace(phys, Origin{}, nil, false)
		}
	}
	if len(shipped) == 0 {
		return
	}
	// The configuration comes as the source has it, so glibc knows every
	// charset it names: a conversion to one whose module is left out fails
	// opening that module, which is what a probe reports.
	for _, c := range []string{"gconv-modules", "gconv-modules.cache", "gconv-modules.d"} {
		if err := r.request(path.Join(dir, c), fmt.Sprintf("gconv configuration, used by %s (iconv_open)", user), Origin{}); err != nil {
			r.fail(err)
			return
		}
	}
}

// readDirNames lists the names in the directory p (links followed).
func readDirNames(r *resolver, p string) ([]string, error) {
	phys, _, err := r.follow(p)
	if err != nil {
		return nil, err
	}
	ents, err := fs.ReadDir(r.fsys, fsName(phys))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

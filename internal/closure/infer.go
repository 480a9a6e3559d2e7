package closure

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Switch turns one inference on or off, or leaves it to smith (the zero
// value).
type Switch string

// Switch values.
const (
	Auto Switch = ""
	On   Switch = "on"
	Off  Switch = "off"
)

// Infer says what Resolve adds beyond what DT_NEEDED and PT_INTERP name:
// what programs load at run time through libc (NSS modules, gconv modules),
// the CA bundle TLS libraries read, the libraries .note.dlopen declares and
// the interpreters of scripts. The zero value infers everything smith
// infers by default.
type Infer struct {
	// NSS: Auto ships nsswitch.conf (and the modules it names that libc
	// does not build in) when a traced object calls a function that goes
	// through NSS; On always does (see Request.Modules); Off never does and
	// notes what wanted it.
	NSS Switch `json:"nss,omitempty"`
	// Gconv: Auto brings gconv modules for Charsets when a traced object
	// calls iconv_open; Off never does.
	Gconv Switch `json:"gconv,omitempty"`
	// Charsets are the charset names to bring; "all" brings every module.
	Charsets []string `json:"charsets,omitempty"`
	// CACerts: Auto brings the CA bundle when the closure holds a TLS
	// library; Off never does.
	CACerts Switch `json:"cacerts,omitempty"`
	// Dlopen is the lowest .note.dlopen priority that joins the closure:
	// required (the zero value), recommended, suggested, or "none".
	Dlopen DlopenPriority `json:"dlopen,omitempty"`
	// Path is the image's PATH, for scripts that start "#!/usr/bin/env NAME".
	Path []string `json:"path,omitempty"`
}

// NSSModule is an NSS service module and the databases it serves ("*" for
// all).
type NSSModule struct {
	Soname    string   `json:"soname"`
	Databases []string `json:"databases"`
}

// NSSModules are the services of smith's nsswitch.conf (package passwd writes
// it): files for every database, dns for hosts.
var NSSModules = []NSSModule{
	{Soname: "libnss_files.so.2", Databases: []string{"*"}},
	{Soname: "libnss_dns.so.2", Databases: []string{string(dbHosts)}},
}

// DlopenNone in Infer.Dlopen keeps every .note.dlopen library out.
const DlopenNone DlopenPriority = "none"

// DlopenUse is one .note.dlopen entry met while tracing, and what came of it.
type DlopenUse struct {
	// File is the object that carries the note.
	File string    `json:"file"`
	Dep  DlopenDep `json:"dep"`
	// Found is the soname alternative taken, "" when none was.
	Found string `json:"found,omitempty"`
	// Included tells whether the library joined the closure.
	Included bool `json:"included"`
}

var defaultPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// infer runs the run-time inferences until none adds anything: each one
// fires at most once, but what it adds may make another one fire.
func (r *resolver) infer() {
	for {
		n := len(r.elfOrder)
		r.inferNSS()
		r.inferGconv()
		r.inferCACerts()
		if len(r.elfOrder) == n {
			return
		}
	}
}

// importers returns, for each watched symbol in want, the first traced
// object (in trace order) that imports it, and the symbols sorted.
func (r *resolver) importers(want func(string) bool) (map[string]string, []string) {
	by := map[string]string{}
	for _, p := range r.elfOrder {
		f := r.elfs[p].f
		for _, s := range f.imports {
			if want(s) {
				if _, ok := by[s]; !ok {
					by[s] = p
				}
			}
		}
	}
	syms := make([]string, 0, len(by))
	for s := range by {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	return by, syms
}

// glibcs returns the traced glibc objects (the libc that defines
// gnu_get_libc_version; its file may be libc.so.6 or libc-2.31.so), in
// trace order.
func (r *resolver) glibcs() []string {
	var out []string
	for _, p := range r.elfOrder {
		if r.elfs[p].f.defines[glibcMarker] {
			out = append(out, p)
		}
	}
	return out
}

func (r *resolver) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// inferNSS ships nsswitch.conf, and the modules glibc would dlopen for it,
// when a traced object calls a function that goes through NSS.
func (r *resolver) inferNSS() {
	if r.inferred["nss"] || r.req.Infer.NSS == On {
		r.nss = r.nss || r.req.Infer.NSS == On
		return
	}
	by, syms := r.importers(func(s string) bool { _, ok := nssSymbols[s]; return ok })
	libcs := r.glibcs()
	if len(syms) == 0 || len(libcs) == 0 {
		return // no lookup, or a libc without NSS (musl, static programs)
	}
	r.inferred["nss"] = true
	first := syms[0]
	if r.req.Infer.NSS == Off {
		r.note("nss: false, but %s calls %s, which reads the user or host database through NSS: lookups may fail at run time", by[first], first)
		return
	}
	r.nss = true
	dbs := map[nssDB]string{} // database -> first symbol that reads it
	for _, s := range syms {
		if db := nssSymbols[s]; dbs[db] == "" {
			dbs[db] = s
		}
	}
	for _, libc := range libcs {
		lf := r.elfs[libc].f
		dirs, _ := r.searchDirs(lf, libc, nil)
		for _, m := range NSSModules {
			sym := moduleServes(m, dbs)
			if sym == "" || builtIn(lf, m.Soname) {
				continue
			}
			hit, found, _, err := r.lookup(m.Soname, dirs, lf)
			if err != nil {
				r.fail(err)
				return
			}
			if hit == "" {
				r.note("NSS module %s not found for %s (called by %s): lookups through it will fail", m.Soname, sym, by[sym])
				continue
			}
			if r.excluded(hit) || r.excluded(found) {
				continue
			}
			r.placeLib(hit, fmt.Sprintf("NSS module for %s, used by %s", sym, by[sym]), Origin{})
			r.trace(found, Origin{}, nil, false)
		}
	}
}

// moduleServes returns the first symbol that reads a database module m
// serves, or "".
func moduleServes(m NSSModule, dbs map[nssDB]string) string {
	var best string
	for _, d := range m.Databases {
		for db, s := range dbs {
			if (d == "*" || nssDB(d) == db) && (best == "" || s < best) {
				best = s
			}
		}
	}
	return best
}

// builtIn tells whether glibc has the module's service compiled in (2.34+).
func builtIn(libc *elfFile, soname string) bool {
	switch soname {
	case "libnss_files.so.2":
		return libc.defines[builtinFiles]
	case "libnss_dns.so.2":
		return libc.defines[builtinDNS]
	}
	return false
}

// tlsLibraries are the basenames (before ".so") of libraries that verify
// TLS peers against the system CA bundle.
var tlsLibraries = []string{"libssl", "libgnutls", "libnss3", "libcurl", "libcurl-gnutls", "libwolfssl", "libmbedtls", "libtls"}

// caBundles are where the TLS libraries of the common distributions read
// the CA bundle: Debian and Ubuntu, Fedora/RHEL (the ca-bundle files are
// links into ca-trust/extracted, which come along), SUSE, Alpine.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/pki/tls/certs/ca-bundle.trust.crt",
	"/etc/pki/tls/cert.pem",
	"/etc/ssl/cert.pem",
	"/etc/ssl/ca-bundle.pem",
}

func isTLSLibrary(p string) (string, bool) {
	base := path.Base(p)
	name, _, ok := strings.Cut(base, ".so")
	if !ok {
		return "", false
	}
	for _, l := range tlsLibraries {
		if name == l {
			return base, true
		}
	}
	return "", false
}

// inferCACerts brings the CA bundle when the closure holds a TLS library.
func (r *resolver) inferCACerts() {
	if r.inferred["cacerts"] {
		return
	}
	var lib, libPath string
	for _, p := range r.elfOrder {
		if b, ok := isTLSLibrary(p); ok {
			lib, libPath = b, p
			break
		}
	}
	if lib == "" {
		return
	}
	r.inferred["cacerts"] = true
	if r.req.Infer.CACerts == Off {
		return
	}
	n := 0
	for _, b := range caBundles {
		_, fi, err := r.place(b, fmt.Sprintf("CA bundle for TLS, read by %s (%s)", lib, libPath))
		if err != nil {
			r.fail(err)
			return
		}
		if fi != nil && !fi.IsDir() {
			n++
		}
	}
	if n == 0 {
		r.note("%s is in the closure but the source has no CA bundle (looked for %s): TLS peers cannot be verified", libPath, strings.Join(caBundles, ", "))
	}
}

// shebang adds the interpreter of the script p ("#!/bin/sh", or
// "#!/usr/bin/env NAME" resolved through the image PATH) and traces it.
func (r *resolver) shebang(p string, origin Origin) {
	interp, arg, ok := r.readShebang(p)
	if !ok {
		return
	}
	reason := fmt.Sprintf("interpreter of %s (#!%s)", p, strings.TrimSpace(interp+" "+arg))
	if !r.exists(interp) {
		r.fail(&MissingLibraryError{Origin: origin, File: p, Soname: "interpreter " + interp, Searched: []string{interp}})
		return
	}
	if err := r.request(interp, reason, origin); err != nil {
		r.fail(withOrigin(origin, err))
		return
	}
	if path.Base(interp) != "env" || arg == "" {
		return
	}
	name := arg
	if strings.Contains(name, "/") {
		return // env runs a path as given; that is the script's business
	}
	dirs := r.req.Infer.Path
	if len(dirs) == 0 {
		dirs = defaultPath
	}
	for _, d := range dirs {
		c := path.Join(cleanAbs(d), name)
		if r.executable(c) {
			if err := r.request(c, fmt.Sprintf("interpreter of %s (#!%s %s, found in PATH)", p, interp, name), origin); err != nil {
				r.fail(withOrigin(origin, err))
			}
			return
		}
	}
	r.fail(&MissingLibraryError{Origin: origin, File: p, Soname: "interpreter " + name + " (#!" + interp + " " + name + ")", Searched: dirs})
}

// exists tells whether p resolves to a file inside the root.
func (r *resolver) exists(p string) bool {
	phys, _, err := r.follow(p)
	if err != nil {
		return false
	}
	fi, err := r.lstat(phys)
	return err == nil && fi.Mode().IsRegular()
}

// executable tells whether p resolves to a file with an exec bit, as env
// requires of what it runs.
func (r *resolver) executable(p string) bool {
	phys, _, err := r.follow(p)
	if err != nil {
		return false
	}
	fi, err := r.lstat(phys)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// readShebang parses the "#!" line of p: the interpreter and, for env, the
// program it runs (after options such as -S).
func (r *resolver) readShebang(p string) (interp, arg string, ok bool) {
	f, err := r.fsys.Open(fsName(p))
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("#!")) {
		return "", "", false
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 || !path.IsAbs(fields[0]) {
		return "", "", false
	}
	interp = fields[0] // as written: follow resolves "..", links and all
	if path.Base(interp) == "env" {
		args := fields[1:]
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "-u" || a == "-C" || a == "-a" || a == "--unset" || a == "--chdir" || a == "--argv0":
				i++ // the option's argument
			case strings.HasPrefix(a, "-") || strings.Contains(a, "="):
				// env's other options and NAME=VALUE assignments
			default:
				return interp, a, true
			}
		}
		return interp, "", true
	}
	if len(fields) > 1 {
		arg = fields[1]
	}
	return interp, arg, true
}

// dlopenRank orders priorities: a dep joins when its rank is at most the
// configured level's.
var dlopenRank = map[DlopenPriority]int{DlopenRequired: 0, DlopenRecommended: 1, DlopenSuggested: 2, DlopenNone: -1}

// traceDlopen adds the libraries the object's .note.dlopen declares, up to
// the configured priority; the first soname alternative found wins. A
// required library that none of the alternatives names is an error.
func (r *resolver) traceDlopen(f *elfFile, p string, origin Origin, dirs []string) {
	level := r.req.Infer.Dlopen
	if level == "" {
		level = DlopenRequired
	}
	for _, d := range f.dlopen {
		use := DlopenUse{File: p, Dep: d}
		want := dlopenRank[level] >= 0 && dlopenRank[d.Priority] <= dlopenRank[level]
		var searched []string
		for _, so := range d.Sonames {
			hit, found, s, err := r.lookup(so, dirs, f)
			if err != nil {
				r.fail(withOrigin(origin, err))
				return
			}
			searched = s
			if hit == "" {
				continue
			}
			use.Found = so
			if want && !r.excluded(hit) && !r.excluded(found) {
				use.Included = true
				what := string(d.Priority)
				if d.Feature != "" {
					what += ", feature " + d.Feature
				}
				r.placeLib(hit, fmt.Sprintf("dlopen()ed by %s (%s, .note.dlopen %s)", p, so, what), origin)
				r.trace(found, origin, nil, false)
			}
			break
		}
		if use.Found == "" && want && d.Priority == DlopenRequired {
			r.fail(&MissingLibraryError{Origin: origin, File: p,
				Soname: strings.Join(d.Sonames, " or ") + " (required by .note.dlopen)", Searched: searched})
		}
		r.dlopens = append(r.dlopens, use)
	}
}

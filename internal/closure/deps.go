package closure

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Pattern is one entry of smith.yaml's paths or excludes.
type Pattern struct {
	// Glob is an absolute or root-relative path in the path.Match dialect
	// (no "**"); "*" also matches names that start with a dot.
	Glob string `json:"glob"`
	// Origin prefixes error messages, e.g. "smith.yaml:5:3: paths[0]".
	Origin Origin `json:"origin,omitzero"`
}

// Request says what to resolve.
type Request struct {
	Paths []Pattern `json:"paths"`
	// Excludes prune matching paths and their subtrees, from the requested
	// trees and from traced libraries alike.
	Excludes []Pattern `json:"excludes,omitempty"`
	// LibraryPath holds the LD_LIBRARY_PATH directories of the image.
	LibraryPath []string `json:"libraryPath,omitempty"`
	// Modules are sonames that programs load at run time rather than
	// through DT_NEEDED, such as the NSS modules nsswitch.conf names. Each
	// traced program (an ELF with an interpreter) gets them searched in its
	// own library path; a module that is not found is skipped.
	Modules []string `json:"modules,omitempty"`
	// Optional makes patterns that match nothing a non-error.
	Optional bool `json:"optional,omitempty"`
	// Infer says what to add beyond DT_NEEDED; the zero value infers all.
	Infer Infer `json:"infer"`
}

// Kind is the type of an Entry.
type Kind int

// Entry kinds.
const (
	Dir Kind = iota + 1
	File
	Symlink
)

var kindNames = map[Kind]string{Dir: "dir", File: "file", Symlink: "symlink"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText encodes a Kind as its name.
func (k Kind) MarshalText() ([]byte, error) {
	if _, ok := kindNames[k]; !ok {
		return nil, fmt.Errorf("invalid kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes a Kind from its name.
func (k *Kind) UnmarshalText(b []byte) error {
	for kk, s := range kindNames {
		if s == string(b) {
			*k = kk
			return nil
		}
	}
	return fmt.Errorf("invalid kind %q", b)
}

// Entry is one filesystem object of the closure.
type Entry struct {
	// Path is absolute and clean, inside the root.
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Mode is the source mode as Lstat saw it, type and special bits
	// included; the writer decides what to keep.
	Mode fs.FileMode `json:"mode"`
	// Target is the verbatim target of a Symlink.
	Target string `json:"target,omitempty"`
	// Reasons say why the entry is in the closure, first reason first.
	Reasons []string `json:"reasons"`
}

// Closure is the result of Resolve: unique entries sorted by Path. Parent
// directories are only listed when they were requested themselves.
type Closure struct {
	Entries []Entry `json:"entries"`
	// NSS tells the writer to ship nsswitch.conf: a traced program looks
	// up users, groups or hosts through glibc (or nss: true asked for it).
	NSS bool `json:"nss,omitempty"`
	// Dlopen lists every .note.dlopen entry met, included or not.
	Dlopen []DlopenUse `json:"dlopen,omitempty"`
	// Notes are warnings for the build log: what inference wanted but was
	// told not to do, or could not find.
	Notes []string `json:"notes,omitempty"`
}

// Resolve computes the closure of req inside fsys. fsys should implement
// fs.ReadLinkFS; without it, symlinks are invisible and everything is taken
// for a plain file or directory.
//
// All problems found are returned together (joined); the closure is nil
// whenever the error is not.
func Resolve(fsys fs.FS, req Request) (*Closure, error) {
	r := newResolver(fsys, req)
	if err := r.compileExcludes(); err != nil {
		return nil, err
	}
	for i, p := range req.Paths {
		r.requestPattern(i, p)
	}
	r.infer()
	if err := r.err(); err != nil {
		return nil, err
	}
	return r.closure(), nil
}

func (r *resolver) requestPattern(i int, p Pattern) {
	g, err := normalizeGlob(p.Glob)
	if err == nil {
		var matches []string
		matches, err = r.glob(g)
		if err == nil {
			if len(matches) == 0 && !r.req.Optional {
				r.fail(&NoMatchError{Pattern: p})
				return
			}
			reason := fmt.Sprintf("requested by %s (%s)", p.Origin.what(fmt.Sprintf("paths[%d]", i)), g)
			kept := 0
			for _, m := range matches {
				if kind := r.special(m); kind != "" {
					r.fail(withOrigin(p.Origin, fmt.Errorf("%s is a %s: only files, directories and symlinks can be copied", m, kind)))
					continue
				}
				if r.excluded(m) {
					continue
				}
				kept++
				if err := r.request(m, reason, p.Origin); err != nil {
					r.fail(withOrigin(p.Origin, err))
				}
			}
			if kept == 0 && len(matches) > 0 {
				// Not an error: smith always let excludes win. An image left
				// with nothing at all is (the helper says so).
				r.note("%s", withOriginText(p.Origin, fmt.Sprintf("everything %q matches is excluded", p.Glob)))
			}
			return
		}
	}
	r.fail(withOrigin(p.Origin, err))
}

func normalizeGlob(g string) (string, error) {
	if strings.TrimSpace(g) == "" {
		return "", fmt.Errorf("empty pattern")
	}
	p := cleanAbs(g)
	if _, err := matchPath(p, ""); err != nil {
		return "", fmt.Errorf("bad pattern %q: %w", g, err)
	}
	return p, nil
}

func (r *resolver) closure() *Closure {
	c := &Closure{Entries: make([]Entry, 0, len(r.entries))}
	for _, e := range r.entries {
		c.Entries = append(c.Entries, *e)
	}
	sort.Slice(c.Entries, func(i, j int) bool { return c.Entries[i].Path < c.Entries[j].Path })
	c.NSS, c.Dlopen, c.Notes = r.nss, r.dlopens, r.notes
	return c
}

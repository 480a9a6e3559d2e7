package closure

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// elfFile is what tracing needs from one ELF object.
type elfFile struct {
	class   elf.Class
	machine elf.Machine
	data    elf.Data
	typ     elf.Type
	needed  []string
	rpath   []string // DT_RPATH strings, colon lists not yet split
	runpath []string // DT_RUNPATH strings
	interp  string
	// imports holds the undefined dynamic symbols that inference cares
	// about (see watchedImports); defines the watched defined ones.
	imports []string
	defines map[string]bool
	// dlopen is the object's .note.dlopen metadata.
	dlopen []DlopenDep
}

type elfResult struct {
	f   *elfFile // nil: not ELF
	err error
}

var elfMagic = []byte(elf.ELFMAG)

// readELF parses the regular file at the physical path p, once. It returns
// nil (and no error) for a file that is not ELF.
func (r *resolver) readELF(p string) (*elfFile, error) {
	if res, ok := r.elfs[p]; ok {
		return res.f, res.err
	}
	f, err := r.parseELF(p)
	r.elfs[p] = elfResult{f, err}
	return f, err
}

func (r *resolver) parseELF(p string) (*elfFile, error) {
	isELF, err := r.hasMagic(p)
	if err != nil || !isELF {
		return nil, err
	}
	b, err := fs.ReadFile(r.fsys, fsName(p))
	if err != nil {
		return nil, err
	}
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading ELF header of %s: %w", p, err)
	}
	defer ef.Close()
	out := &elfFile{class: ef.Class, machine: ef.Machine, data: ef.Data, typ: ef.Type}
	if out.typ != elf.ET_EXEC && out.typ != elf.ET_DYN {
		return out, nil
	}
	if err := readDynamic(ef, b, out); err != nil {
		return nil, fmt.Errorf("reading dynamic section of %s: %w", p, err)
	}
	out.interp, err = readInterp(ef)
	if err != nil {
		return nil, fmt.Errorf("reading interpreter of %s: %w", p, err)
	}
	readSymbols(ef, out)
	if out.dlopen, err = readDlopenNotes(ef); err != nil {
		return nil, fmt.Errorf("reading .note.dlopen of %s: %w", p, err)
	}
	return out, nil
}

func (r *resolver) hasMagic(p string) (bool, error) {
	f, err := r.fsys.Open(fsName(p))
	if err != nil {
		return false, err
	}
	defer f.Close()
	var head [4]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, err
	}
	return bytes.Equal(head[:], elfMagic), nil
}

// readInterp reads PT_INTERP from the program headers, which survive
// stripping of the section headers. A .interp section of type NOBITS marks a
// separate debug file, whose segments hold no data.
func readInterp(ef *elf.File) (string, error) {
	if s := ef.Section(".interp"); s != nil && s.Type == elf.SHT_NOBITS {
		return "", nil
	}
	for _, pr := range ef.Progs {
		if pr.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(pr.Open())
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b), nil
	}
	return "", nil
}

// readDynamic fills the DT_NEEDED, DT_RPATH and DT_RUNPATH strings, from the
// section headers when there are any (debug/elf's DynString), else from
// PT_DYNAMIC.
func readDynamic(ef *elf.File, raw []byte, out *elfFile) error {
	if len(ef.Sections) > 1 {
		var err error
		if out.needed, err = ef.DynString(elf.DT_NEEDED); err != nil {
			return err
		}
		if out.rpath, err = ef.DynString(elf.DT_RPATH); err != nil {
			return err
		}
		out.runpath, err = ef.DynString(elf.DT_RUNPATH)
		return err
	}
	return readDynamicProgs(ef, raw, out)
}

// readDynamicProgs decodes PT_DYNAMIC for objects without section headers
// (sstrip'd binaries).
func readDynamicProgs(ef *elf.File, raw []byte, out *elfFile) error {
	var dyn *elf.Prog
	for _, pr := range ef.Progs {
		if pr.Type == elf.PT_DYNAMIC {
			dyn = pr
		}
	}
	if dyn == nil {
		return nil
	}
	d, err := io.ReadAll(dyn.Open())
	if err != nil {
		return err
	}
	size := 16
	if ef.Class == elf.ELFCLASS32 {
		size = 8
	}
	type tagVal struct {
		tag elf.DynTag
		val uint64
	}
	var tags []tagVal
	var strtab, strsz uint64
	for i := 0; i+size <= len(d); i += size {
		var tv tagVal
		if size == 16 {
			tv = tagVal{elf.DynTag(ef.ByteOrder.Uint64(d[i:])), ef.ByteOrder.Uint64(d[i+8:])}
		} else {
			tv = tagVal{elf.DynTag(ef.ByteOrder.Uint32(d[i:])), uint64(ef.ByteOrder.Uint32(d[i+4:]))}
		}
		if tv.tag == elf.DT_NULL {
			break
		}
		switch tv.tag {
		case elf.DT_STRTAB:
			strtab = tv.val
		case elf.DT_STRSZ:
			strsz = tv.val
		}
		tags = append(tags, tv)
	}
	off, ok := vaddrOffset(ef, strtab)
	if !ok || off+strsz > uint64(len(raw)) {
		return fmt.Errorf("string table at %#x outside the file", strtab)
	}
	str := raw[off : off+strsz]
	get := func(v uint64) string {
		if v >= uint64(len(str)) {
			return ""
		}
		s := str[v:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s)
	}
	for _, tv := range tags {
		switch tv.tag {
		case elf.DT_NEEDED:
			out.needed = append(out.needed, get(tv.val))
		case elf.DT_RPATH:
			out.rpath = append(out.rpath, get(tv.val))
		case elf.DT_RUNPATH:
			out.runpath = append(out.runpath, get(tv.val))
		}
	}
	return nil
}

func vaddrOffset(ef *elf.File, vaddr uint64) (uint64, bool) {
	for _, pr := range ef.Progs {
		if pr.Type == elf.PT_LOAD && vaddr >= pr.Vaddr && vaddr < pr.Vaddr+pr.Filesz {
			return pr.Off + vaddr - pr.Vaddr, true
		}
	}
	return 0, false
}

// arch describes where ld.so looks by default for one class and machine.
type arch struct {
	triplets []string
	platform string
	is64     bool
}

func archOf(f *elfFile) arch {
	a := arch{is64: f.class == elf.ELFCLASS64}
	le := f.data == elf.ELFDATA2LSB
	switch f.machine {
	case elf.EM_X86_64:
		if a.is64 {
			a.triplets, a.platform = []string{"x86_64-linux-gnu"}, "x86_64"
		} else {
			a.triplets, a.platform = []string{"x86_64-linux-gnux32"}, "x86_64"
		}
	case elf.EM_386:
		a.triplets, a.platform = []string{"i386-linux-gnu"}, "i686"
	case elf.EM_AARCH64:
		a.triplets, a.platform = []string{"aarch64-linux-gnu"}, "aarch64"
	case elf.EM_ARM:
		a.triplets, a.platform = []string{"arm-linux-gnueabihf", "arm-linux-gnueabi"}, "v7l"
	case elf.EM_PPC64:
		if le {
			a.triplets, a.platform = []string{"powerpc64le-linux-gnu"}, "ppc64le"
		} else {
			a.triplets, a.platform = []string{"powerpc64-linux-gnu"}, "ppc64"
		}
	case elf.EM_S390:
		a.triplets, a.platform = []string{"s390x-linux-gnu"}, "s390x"
	case elf.EM_RISCV:
		a.triplets, a.platform = []string{"riscv64-linux-gnu"}, "riscv64"
	}
	return a
}

// libDirs are the values tried for $LIB.
func (a arch) libDirs() []string {
	var out []string
	if a.is64 {
		out = append(out, "lib64")
	}
	for _, t := range a.triplets {
		out = append(out, "lib/"+t)
	}
	return append(out, "lib")
}

// defaultDirs are the trusted directories searched last.
func (a arch) defaultDirs() []string {
	var out []string
	for _, t := range a.triplets {
		out = append(out, "/lib/"+t, "/usr/lib/"+t)
	}
	if a.is64 {
		out = append(out, "/lib64", "/usr/lib64")
	}
	return append(out, "/lib", "/usr/lib")
}

// expandList splits colon lists, expands the dynamic string tokens and makes
// every directory absolute inside the root (relative ones are taken as
// root-relative, as the helper runs with the root as its cwd).
func expandList(lists []string, origin string, a arch) []string {
	var out []string
	for _, l := range lists {
		for _, d := range strings.Split(l, ":") {
			if d == "" {
				continue
			}
			for _, x := range expandTokens(d, origin, a) {
				out = append(out, cleanAbs(x))
			}
		}
	}
	return out
}

// expandTokens expands $ORIGIN, $LIB and $PLATFORM (bare or in braces).
// $LIB has several values, so the result is a list. An unknown token is
// kept as written; a path with an unknown $PLATFORM is dropped, as ld.so does.
func expandTokens(s, origin string, a arch) []string {
	out := []string{""}
	appendAll := func(vals ...string) {
		next := make([]string, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+v)
			}
		}
		out = next
	}
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			appendAll(s)
			return out
		}
		appendAll(s[:i])
		s = s[i+1:]
		var name, raw string
		if strings.HasPrefix(s, "{") {
			j := strings.IndexByte(s, '}')
			if j < 0 {
				appendAll("$" + s)
				return out
			}
			name, raw, s = s[1:j], s[:j+1], s[j+1:]
		} else {
			j := 0
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name, raw, s = s[:j], s[:j], s[j:]
		}
		switch name {
		case "ORIGIN":
			appendAll(origin)
		case "LIB":
			appendAll(a.libDirs()...)
		case "PLATFORM":
			if a.platform == "" {
				return nil
			}
			appendAll(a.platform)
		default:
			appendAll("$" + raw)
		}
	}
}

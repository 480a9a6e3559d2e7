package closure

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// DlopenPriority is how much a program wants a dlopen'ed library.
type DlopenPriority string

// Priorities of the ELF dlopen metadata specification (UAPI.12).
const (
	DlopenRequired    DlopenPriority = "required"
	DlopenRecommended DlopenPriority = "recommended"
	DlopenSuggested   DlopenPriority = "suggested"
)

// DlopenDep is one entry of an ELF file's .note.dlopen metadata.
type DlopenDep struct {
	// Sonames are alternatives, most preferred first.
	Sonames     []string       `json:"soname"`
	Feature     string         `json:"feature,omitempty"`
	Description string         `json:"description,omitempty"`
	Priority    DlopenPriority `json:"priority"`
}

const (
	dlopenSection   = ".note.dlopen"
	dlopenNoteOwner = "FDO"
	// ntFDODlopenMetadata is NT_FDO_DLOPEN_METADATA.
	ntFDODlopenMetadata = 0x407c0c0a
)

// readDlopenNotes returns the dlopen metadata of ef, in file order, or nil
// when it has none. Entries are numbered from 1 across the whole file in
// errors, so "entry 2" is the second entry the caller would have seen.
func readDlopenNotes(ef *elf.File) ([]DlopenDep, error) {
	var descs [][]byte
	add := func(r io.Reader, align uint64) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		d, err := dlopenNoteDescs(b, ef.ByteOrder, align)
		descs = append(descs, d...)
		return err
	}
	if len(ef.Sections) > 1 {
		// The linker concatenates every object's .note.dlopen into one
		// output section, but a hand-written linker script may keep several.
		for _, s := range ef.Sections {
			if s.Name != dlopenSection || s.Type != elf.SHT_NOTE {
				continue // SHT_NOBITS: a separate debug file holds no data
			}
			if err := add(s.Open(), s.Addralign); err != nil {
				return nil, fmt.Errorf("%s: %w", dlopenSection, err)
			}
		}
	} else {
		// Without section headers (sstrip) the note is only reachable
		// through PT_NOTE, mixed with build-id, ABI-tag and other notes.
		for _, p := range ef.Progs {
			if p.Type != elf.PT_NOTE {
				continue
			}
			if err := add(p.Open(), p.Align); err != nil {
				return nil, fmt.Errorf("%s: PT_NOTE at offset %#x: %w", dlopenSection, p.Off, err)
			}
		}
	}
	var out []DlopenDep
	for i, d := range descs {
		deps, err := parseDlopenJSON(d, i+1, len(out)+1)
		if err != nil {
			return nil, err
		}
		out = append(out, deps...)
	}
	return out, nil
}

// dlopenNoteDescs walks the notes in b and returns the descriptors of the
// FDO dlopen notes. Fields are padded to align (4, or 8 as in some ELF64
// note sections); offsets are relative to b, whose start is itself aligned.
func dlopenNoteDescs(b []byte, bo binary.ByteOrder, align uint64) ([][]byte, error) {
	if align != 8 {
		align = 4 // 0 and 1 mean "no constraint"; notes are 4-aligned anyway
	}
	pad := func(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }
	var out [][]byte
	size := uint64(len(b))
	for off := uint64(0); off < size; {
		// Linkers may leave zero padding shorter than a header at the end.
		if size-off < 12 {
			if len(bytes.Trim(b[off:], "\x00")) > 0 {
				return out, fmt.Errorf("truncated note header at offset %#x", off)
			}
			break
		}
		namesz := uint64(bo.Uint32(b[off:]))
		descsz := uint64(bo.Uint32(b[off+4:]))
		typ := bo.Uint32(b[off+8:])
		nameOff := off + 12
		descOff := pad(nameOff + namesz) // uint32 sizes cannot overflow uint64
		end := descOff + descsz
		if nameOff+namesz > size || end > size {
			return out, fmt.Errorf("note at offset %#x overruns its section (namesz %d, descsz %d)", off, namesz, descsz)
		}
		// The name includes its NUL terminator; compare without it.
		name := strings.TrimRight(string(b[nameOff:nameOff+namesz]), "\x00")
		if name == dlopenNoteOwner && typ == ntFDODlopenMetadata {
			out = append(out, b[descOff:end])
		}
		off = min(pad(end), size)
	}
	return out, nil
}

// parseDlopenJSON decodes one note descriptor. note and first number the
// note and its first entry in errors. Entries are decoded one by one so a
// type error names its entry; unknown keys are ignored, as the spec asks.
func parseDlopenJSON(desc []byte, note, first int) ([]DlopenDep, error) {
	if i := bytes.IndexByte(desc, 0); i >= 0 {
		desc = desc[:i] // NUL terminator and padding
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(desc, &raw); err != nil {
		return nil, fmt.Errorf("%s note %d: invalid JSON (want an array of objects): %v", dlopenSection, note, err)
	}
	var out []DlopenDep
	for i, r := range raw {
		d, err := decodeDlopenEntry(r)
		if err != nil {
			return nil, fmt.Errorf("%s entry %d: %v", dlopenSection, first+i, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeDlopenEntry(r json.RawMessage) (DlopenDep, error) {
	// A pointer tells an absent priority (recommended) from "" (invalid).
	var e struct {
		DlopenDep
		Priority *DlopenPriority `json:"priority"`
	}
	if err := json.Unmarshal(r, &e); err != nil {
		return DlopenDep{}, err
	}
	d := e.DlopenDep
	// null for the entry or for soname leaves Sonames empty.
	if len(d.Sonames) == 0 {
		return d, fmt.Errorf("no soname")
	}
	for _, s := range d.Sonames {
		// dlopen treats a name with a slash as a path, not a soname to
		// search for; an empty name would match nothing.
		if s == "" || strings.Contains(s, "/") {
			return d, fmt.Errorf("invalid soname %q", s)
		}
	}
	d.Priority = DlopenRecommended
	if e.Priority != nil {
		d.Priority = *e.Priority
	}
	switch d.Priority {
	case DlopenRequired, DlopenRecommended, DlopenSuggested:
		return d, nil
	}
	return d, fmt.Errorf("unknown priority %q", d.Priority)
}

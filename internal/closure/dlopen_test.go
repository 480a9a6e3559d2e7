package closure

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// dlopenNote builds one ELF note the way an assembler lays it out.
func dlopenNote(bo binary.AppendByteOrder, align int, name string, typ uint32, desc string) []byte {
	pad := func(b []byte) []byte {
		for len(b)%align != 0 {
			b = append(b, 0)
		}
		return b
	}
	b := bo.AppendUint32(nil, uint32(len(name)+1))
	b = bo.AppendUint32(b, uint32(len(desc)))
	b = bo.AppendUint32(b, typ)
	b = pad(append(append(b, name...), 0))
	return pad(append(b, desc...))
}

func TestDlopenNoteDescs(t *testing.T) {
	first := "[{\"soname\":[\"liba.so.1\"]}]\x00" // 27 bytes: needs padding
	second := "[]\x00"
	for _, bo := range []interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}{binary.LittleEndian, binary.BigEndian} {
		for _, align := range []int{4, 8} {
			t.Run(fmt.Sprintf("%v/align%d", bo, align), func(t *testing.T) {
				var b []byte
				b = append(b, dlopenNote(bo, align, "GNU", 3, "0123456789abcdef0123")...) // build-id
				b = append(b, dlopenNote(bo, align, "FDO", 1, "not ours")...)
				b = append(b, dlopenNote(bo, align, "FDOX", ntFDODlopenMetadata, "not ours")...)
				b = append(b, dlopenNote(bo, align, "FDO", ntFDODlopenMetadata, first)...)
				b = append(b, dlopenNote(bo, align, "GNU", 1, "\x00\x00\x00\x00\x03\x02\x00\x00")...)
				b = append(b, dlopenNote(bo, align, "FDO", ntFDODlopenMetadata, second)...)
				b = append(b, 0, 0, 0) // trailing padding shorter than a header
				got, err := dlopenNoteDescs(b, bo, uint64(align))
				if err != nil {
					t.Fatal(err)
				}
				want := [][]byte{[]byte(first), []byte(second)}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	}

	le := binary.LittleEndian
	note := dlopenNote(le, 4, "FDO", ntFDODlopenMetadata, first)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, ""},
		{"zero padding only", make([]byte, 11), ""},
		{"short garbage", append(note, 1, 2, 3), "truncated note header at offset 0x2c"},
		{"desc overrun", note[:len(note)-4], "note at offset 0x0 overruns its section (namesz 4, descsz 27)"},
		{"name overrun", le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 100), 0), 0), "overruns"},
		{"huge sizes", le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, ^uint32(0)), ^uint32(0)), 0), "overruns"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := dlopenNoteDescs(c.b, le, 4)
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDlopenParseJSON(t *testing.T) {
	for _, c := range []struct {
		name, desc string
		want       []DlopenDep
		err        string
	}{
		{
			name: "full entry, NUL and padding",
			desc: `[{"soname":["libfoo.so.1"],"feature":"foo","description":"Foo \"quoted\"","priority":"required"}]` + "\x00\x00\x00",
			want: []DlopenDep{{Sonames: []string{"libfoo.so.1"}, Feature: "foo", Description: `Foo "quoted"`, Priority: DlopenRequired}},
		},
		{
			name: "default priority, alternatives, unknown keys, no NUL",
			desc: `[{"soname":["libbar.so.2","libbar.so.1"],"x-future":{"a":[1]}},{"soname":["libbaz.so"],"priority":"suggested"}]`,
			want: []DlopenDep{
				{Sonames: []string{"libbar.so.2", "libbar.so.1"}, Priority: DlopenRecommended},
				{Sonames: []string{"libbaz.so"}, Priority: DlopenSuggested},
			},
		},
		{name: "empty array", desc: "[]\x00"},
		{name: "invalid JSON", desc: `[{"soname":["a.so"]` + "\x00", err: ".note.dlopen note 2: invalid JSON"},
		{name: "object, not array", desc: `{"soname":["a.so"]}`, err: ".note.dlopen note 2: invalid JSON"},
		{name: "empty descriptor", desc: "\x00\x00\x00\x00", err: ".note.dlopen note 2: invalid JSON"},
		{name: "no soname", desc: `[{"feature":"x"}]`, err: ".note.dlopen entry 5: no soname"},
		{name: "empty soname list", desc: `[{"soname":[]}]`, err: ".note.dlopen entry 5: no soname"},
		{name: "null entry", desc: `[null]`, err: ".note.dlopen entry 5: no soname"},
		{name: "soname is a string", desc: `[{"soname":"a.so"}]`, err: ".note.dlopen entry 5: json: cannot unmarshal string"},
		{name: "path", desc: `[{"soname":["a.so"]},{"soname":["b.so","/usr/lib/b.so"]}]`, err: `.note.dlopen entry 6: invalid soname "/usr/lib/b.so"`},
		{name: "empty name", desc: `[{"soname":[""]}]`, err: `.note.dlopen entry 5: invalid soname ""`},
		{name: "bad priority", desc: `[{"soname":["a.so"]},{"soname":["b.so"],"priority":"must"}]`, err: `.note.dlopen entry 6: unknown priority "must"`},
		{name: "empty priority", desc: `[{"soname":["a.so"],"priority":""}]`, err: `.note.dlopen entry 5: unknown priority ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			// As if this were the second note and four entries came before.
			got, err := parseDlopenJSON([]byte(c.desc), 2, 5)
			if c.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("error %v, want prefix %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// dlopenCC compiles C sources to out with gcc, one translation unit per
// source: GCC may emit a unit's notes in reverse order (it does at -O2), while
// ld keeps units in command-line order, so this pins the file order.
func dlopenCC(t *testing.T, out string, args []string, sources ...string) error {
	t.Helper()
	dir := filepath.Dir(out)
	for i, src := range sources {
		c := filepath.Join(dir, fmt.Sprintf("%s.%d.c", filepath.Base(out), i))
		if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, c)
	}
	cmd := exec.Command("gcc", append(args, "-o", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gcc %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, b)
	}
	return nil
}

// dlopenNoteC is a translation unit holding one note laid out as systemd's
// ELF_NOTE_DLOPEN does it. It uses GCC's builtin type macro rather than
// <stdint.h> so that -m32 works without 32-bit libc headers.
func dlopenNoteC(json string) string {
	lit := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(json)
	return fmt.Sprintf(`#define JSON "%s"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
	__UINT32_TYPE__ n_namesz, n_descsz, n_type;
	char name[4];
	_Alignas(4) char desc[sizeof(JSON)];
} dlopen_note = { 4, sizeof(JSON), 0x407c0c0a, "FDO", JSON };
`, lit)
}

const dlopenMainC = "int main(void) { return 0; }\n"

// dlopenStrip drops the section headers, as sstrip does, so only PT_NOTE
// leads to the notes.
func dlopenStrip(t *testing.T, path string) *elf.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shoff, shoffLen, shnum := 0x28, 8, 0x3c
	if elf.Class(b[elf.EI_CLASS]) == elf.ELFCLASS32 {
		shoff, shoffLen, shnum = 0x20, 4, 0x30
	}
	clear(b[shoff : shoff+shoffLen])
	clear(b[shnum : shnum+4]) // e_shnum and e_shstrndx
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(ef.Sections) != 0 {
		t.Fatalf("still %d sections", len(ef.Sections))
	}
	return ef
}

func dlopenRead(t *testing.T, path string) ([]DlopenDep, error) {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	return readDlopenNotes(ef)
}

func dlopenNeedGCC(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found: needed to build ELF fixtures with a .note.dlopen section")
	}
}

var (
	dlopenFooJSON = `[{"soname":["libfoo.so.1"],"feature":"foo","description":"Foo support","priority":"required"}]`
	dlopenFoo     = []DlopenDep{{Sonames: []string{"libfoo.so.1"}, Feature: "foo", Description: "Foo support", Priority: DlopenRequired}}
	// Alternatives, a default priority and an unknown key in one note.
	dlopenBarJSON = `[{"soname":["libbar.so.2","libbar.so.1"],"feature":"bar","x-vendor":{"k":1}},` +
		`{"soname":["libbaz.so.0"],"feature":"baz","priority":"suggested"}]`
	dlopenBar = []DlopenDep{
		{Sonames: []string{"libbar.so.2", "libbar.so.1"}, Feature: "bar", Priority: DlopenRecommended},
		{Sonames: []string{"libbaz.so.0"}, Feature: "baz", Priority: DlopenSuggested},
	}
)

func TestDlopenGCC(t *testing.T) {
	dlopenNeedGCC(t)
	dir := t.TempDir()
	lib := []string{"-shared", "-fPIC", "-O2"}
	build := func(name string, args []string, sources ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		if err := dlopenCC(t, out, args, sources...); err != nil {
			t.Fatal(err)
		}
		return out
	}
	one := build("libone.so", lib, dlopenNoteC(dlopenFooJSON))
	two := build("two", []string{"-O2"}, dlopenMainC, dlopenNoteC(dlopenFooJSON), dlopenNoteC(dlopenBarJSON))
	none := build("libnone.so", lib, "int f(void) { return 1; }\n")
	badJSON := build("libbadjson.so", lib, dlopenNoteC(dlopenFooJSON), dlopenNoteC(`[{"soname":["a.so"]`))
	badPrio := build("libbadprio.so", lib, dlopenNoteC(`[{"soname":["a.so"]},{"soname":["b.so"],"priority":"must"}]`))

	check := func(t *testing.T, got []DlopenDep, err error, want []DlopenDep) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	}
	wantTwo := append(append([]DlopenDep(nil), dlopenFoo...), dlopenBar...)

	t.Run("one note", func(t *testing.T) {
		got, err := dlopenRead(t, one)
		check(t, got, err, dlopenFoo)
	})
	t.Run("two notes in file order", func(t *testing.T) {
		got, err := dlopenRead(t, two)
		check(t, got, err, wantTwo)
	})
	t.Run("PT_NOTE without section headers", func(t *testing.T) {
		// The segment also holds build-id and ABI-tag notes; GNU property
		// notes sit in a PT_NOTE of their own with alignment 8.
		got, err := readDlopenNotes(dlopenStrip(t, two))
		check(t, got, err, wantTwo)
	})
	t.Run("no note", func(t *testing.T) {
		got, err := dlopenRead(t, none)
		if got != nil || err != nil {
			t.Fatalf("got %+v, %v; want nil, nil", got, err)
		}
	})
	t.Run("invalid JSON", func(t *testing.T) {
		_, err := dlopenRead(t, badJSON)
		if err == nil || !strings.HasPrefix(err.Error(), ".note.dlopen note 2: invalid JSON") {
			t.Fatalf("got error %v", err)
		}
	})
	t.Run("bad priority", func(t *testing.T) {
		_, err := dlopenRead(t, badPrio)
		if err == nil || err.Error() != `.note.dlopen entry 2: unknown priority "must"` {
			t.Fatalf("got error %v", err)
		}
	})
}

func TestDlopenGCC32(t *testing.T) {
	dlopenNeedGCC(t)
	// -nostdlib: the note is plain data, so no 32-bit libc or libgcc is
	// needed, only a gcc and binutils that can target i386.
	out := filepath.Join(t.TempDir(), "lib32.so")
	if err := dlopenCC(t, out, []string{"-m32", "-shared", "-fPIC", "-nostdlib"},
		dlopenNoteC(dlopenFooJSON), dlopenNoteC(dlopenBarJSON)); err != nil {
		t.Skipf("gcc -m32 does not work here: %v", err)
	}
	want := append(append([]DlopenDep(nil), dlopenFoo...), dlopenBar...)
	ef, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if ef.Class != elf.ELFCLASS32 {
		t.Fatalf("class %v, want ELFCLASS32", ef.Class)
	}
	for name, f := range map[string]*elf.File{"sections": ef, "PT_NOTE": dlopenStrip(t, out)} {
		got, err := readDlopenNotes(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", name, got, want)
		}
	}
}

package passwd

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The passwd lines of the built-in users when none of them is the runtime
// user, split around uid 10.
const (
	passwdLow = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"daemon:x:1:1:daemon:/:/sbin/nologin\n" +
		"bin:x:2:2:bin:/:/sbin/nologin\n" +
		"sys:x:3:3:sys:/:/sbin/nologin\n"
	passwdNobody = "nobody:x:65534:65534:nobody:/:/sbin/nologin\n"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		uid, gid int
		user     string
		generate bool
		// group lines that must be present (exact, without "\n")
		groups []string
		// passwd line of the runtime user (exact, without "\n")
		passwd string
	}{
		{
			name: "default user", in: Input{},
			uid: 10, gid: 10, user: "smith",
			groups: []string{"smith:x:10:"},
			passwd: "smith:x:10:10:smith:/write:/sbin/nologin",
		},
		{
			name: "default user with nss", in: Input{NSS: true},
			uid: 10, gid: 10, user: "smith", generate: true,
			groups: []string{"smith:x:10:"},
		},
		{
			name: "numeric uid", in: Input{User: "1000"},
			uid: 1000, gid: 10, user: "smith",
			groups: []string{"smith:x:10:"},
			passwd: "smith:x:1000:10:smith:/write:/sbin/nologin",
		},
		{
			name: "numeric built-in uid", in: Input{User: "1"},
			uid: 1, gid: 1, user: "daemon",
			groups: []string{"daemon:x:1:"},
			passwd: "daemon:x:1:1:daemon:/write:/sbin/nologin",
		},
		{
			name: "uid:gid", in: Input{User: "1000:2000"},
			uid: 1000, gid: 2000, user: "smith",
			groups: []string{"smith:x:2000:"},
			passwd: "smith:x:1000:2000:smith:/write:/sbin/nologin",
		},
		{
			name: "uid:built-in gid", in: Input{User: "1000:4"},
			uid: 1000, gid: 4, user: "smith",
			groups: []string{"adm:x:4:"},
			passwd: "smith:x:1000:4:smith:/write:/sbin/nologin",
		},
		{
			name: "0:0", in: Input{User: "0:0"},
			uid: 0, gid: 0, user: "root",
			groups: []string{"root:x:0:"},
			passwd: "root:x:0:0:root:/root:/sbin/nologin",
		},
		{
			name: "root by uid with a new gid", in: Input{User: "0:2000"},
			uid: 0, gid: 2000, user: "root",
			groups: []string{"root:x:0:", "group2000:x:2000:"},
			passwd: "root:x:0:2000:root:/root:/sbin/nologin",
		},
		{
			name: "built-in name daemon", in: Input{User: "daemon"},
			uid: 1, gid: 1, user: "daemon", generate: true,
			groups: []string{"daemon:x:1:"},
			passwd: "daemon:x:1:1:daemon:/write:/sbin/nologin",
		},
		{
			name: "built-in name root", in: Input{User: "root"},
			uid: 0, gid: 0, user: "root", generate: true,
			passwd: "root:x:0:0:root:/root:/sbin/nologin",
		},
		{
			name: "built-in name nobody", in: Input{User: "nobody"},
			uid: 65534, gid: 65534, user: "nobody", generate: true,
			groups: []string{"nogroup:x:65534:"},
			passwd: "nobody:x:65534:65534:nobody:/write:/sbin/nologin",
		},
		{
			name: "new name", in: Input{User: "nginx"},
			uid: 10, gid: 10, user: "nginx", generate: true,
			groups: []string{"nginx:x:10:"},
			passwd: "nginx:x:10:10:nginx:/write:/sbin/nologin",
		},
		{
			name: "new name with _, - and $", in: Input{User: "_svc-1$"},
			uid: 10, gid: 10, user: "_svc-1$", generate: true,
			groups: []string{"_svc-1$:x:10:"},
		},
		{
			name: "new name that is a built-in group name", in: Input{User: "adm"},
			uid: 10, gid: 10, user: "adm", generate: true,
			groups: []string{"adm:x:4:", "group10:x:10:"},
			passwd: "adm:x:10:10:adm:/write:/sbin/nologin",
		},
		{
			name: "app:app personal group", in: Input{User: "app:app"},
			uid: 10, gid: 10, user: "app", generate: true,
			groups: []string{"app:x:10:"},
			passwd: "app:x:10:10:app:/write:/sbin/nologin",
		},
		{
			name: "app:adm built-in group", in: Input{User: "app:adm"},
			uid: 10, gid: 4, user: "app", generate: true,
			groups: []string{"adm:x:4:"},
			passwd: "app:x:10:4:app:/write:/sbin/nologin",
		},
		{
			name: "daemon:tty", in: Input{User: "daemon:tty"},
			uid: 1, gid: 5, user: "daemon", generate: true,
			groups: []string{"daemon:x:1:", "tty:x:5:"},
			passwd: "daemon:x:1:5:daemon:/write:/sbin/nologin",
		},
		{
			name: "mixed uid:name", in: Input{User: "1000:adm"},
			uid: 1000, gid: 4, user: "smith", generate: true,
			groups: []string{"adm:x:4:"},
		},
		{
			name: "mixed name:gid", in: Input{User: "app:3000"},
			uid: 10, gid: 3000, user: "app", generate: true,
			groups: []string{"app:x:3000:"},
			passwd: "app:x:10:3000:app:/write:/sbin/nologin",
		},
		{
			name: "name:group from groups", in: Input{User: "app:web", Groups: []string{"db", "web"}},
			uid: 10, gid: 1001, user: "app", generate: true,
			groups: []string{"db:x:1000:app", "web:x:1001:"},
			passwd: "app:x:10:1001:app:/write:/sbin/nologin",
		},
		{
			name: "groups with built-in adm keeps membership", in: Input{Groups: []string{"adm"}},
			uid: 10, gid: 10, user: "smith", generate: true,
			groups: []string{"adm:x:4:smith", "smith:x:10:"},
		},
		{
			name: "root joins adm", in: Input{User: "0:0", Groups: []string{"adm", "web"}},
			uid: 0, gid: 0, user: "root", generate: true,
			groups: []string{"root:x:0:", "adm:x:4:root", "web:x:1000:root"},
		},
		{
			name: "new groups allocated from 1000", in: Input{User: "app", Groups: []string{"web", "db", "cache"}},
			uid: 10, gid: 10, user: "app", generate: true,
			groups: []string{"app:x:10:", "web:x:1000:app", "db:x:1001:app", "cache:x:1002:app"},
		},
		{
			name: "new groups allocated from GID+1", in: Input{User: "app:5000", Groups: []string{"web", "db"}},
			uid: 10, gid: 5000, user: "app", generate: true,
			groups: []string{"app:x:5000:", "web:x:5001:app", "db:x:5002:app"},
		},
		{
			name: "allocation skips ids in use", in: Input{User: "1000:1000", Groups: []string{"web", "1002", "db"}},
			uid: 1000, gid: 1000, user: "smith", generate: true,
			groups: []string{"smith:x:1000:", "web:x:1001:smith", "group1002:x:1002:smith", "db:x:1003:smith"},
		},
		{
			name: "numeric groups", in: Input{Groups: []string{"5", "2000"}},
			uid: 10, gid: 10, user: "smith", generate: true,
			groups: []string{"tty:x:5:smith", "smith:x:10:", "group2000:x:2000:smith"},
		},
		{
			name: "primary group listed by id", in: Input{User: "app:adm", Groups: []string{"4", "web"}},
			uid: 10, gid: 4, user: "app", generate: true,
			groups: []string{"adm:x:4:", "web:x:1000:app"},
		},
		{
			name: "primary group listed in groups is not a member line", in: Input{User: "app:adm", Groups: []string{"adm"}},
			uid: 10, gid: 4, user: "app", generate: true,
			groups: []string{"adm:x:4:"},
		},
		{
			name: "own name listed in groups", in: Input{User: "app", Groups: []string{"app", "web"}},
			uid: 10, gid: 10, user: "app", generate: true,
			groups: []string{"app:x:10:", "web:x:1000:app"},
		},
		{
			name: "numeric primary listed in groups", in: Input{User: "1000:2000", Groups: []string{"2000"}},
			uid: 1000, gid: 2000, user: "smith", generate: true,
			groups: []string{"smith:x:2000:"},
		},
		{
			name: "generate off for numeric user", in: Input{User: "1000:2000"},
			uid: 1000, gid: 2000, user: "smith", generate: false,
		},
		{
			name: "generate on for a name in the group part", in: Input{User: "1000:tty"},
			uid: 1000, gid: 5, user: "smith", generate: true,
		},
		{
			name: "generate on for nss with numeric user", in: Input{User: "0", NSS: true},
			uid: 0, gid: 0, user: "root", generate: true,
		},
		{
			name: "max id", in: Input{User: "2147483647:2147483647"},
			uid: 2147483647, gid: 2147483647, user: "smith",
			groups: []string{"smith:x:2147483647:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(tt.in)
			if err != nil {
				t.Fatalf("Resolve(%+v): %v", tt.in, err)
			}
			if r.UID != tt.uid || r.GID != tt.gid || r.Name != tt.user {
				t.Errorf("got %s %d:%d, want %s %d:%d", r.Name, r.UID, r.GID, tt.user, tt.uid, tt.gid)
			}
			if r.Generate != tt.generate {
				t.Errorf("Generate = %v, want %v", r.Generate, tt.generate)
			}
			checkWellFormed(t, r)
			groupLines := strings.Split(strings.TrimSuffix(r.Group, "\n"), "\n")
			for _, want := range tt.groups {
				if !slices.Contains(groupLines, want) {
					t.Errorf("group has no line %q:\n%s", want, r.Group)
				}
			}
			if tt.passwd != "" && !slices.Contains(strings.Split(r.Passwd, "\n"), tt.passwd) {
				t.Errorf("passwd has no line %q:\n%s", tt.passwd, r.Passwd)
			}
			// The runtime user's passwd line carries its resolved ids.
			found := false
			for _, l := range strings.Split(strings.TrimSuffix(r.Passwd, "\n"), "\n") {
				f := strings.Split(l, ":")
				if f[0] == r.Name {
					found = true
					if want := []string{strconv.Itoa(r.UID), strconv.Itoa(r.GID)}; !slices.Equal(f[2:4], want) {
						t.Errorf("passwd line %q: ids %v, want %v", l, f[2:4], want)
					}
				}
			}
			if !found {
				t.Errorf("passwd has no line for %q:\n%s", r.Name, r.Passwd)
			}
		})
	}
}

// checkWellFormed checks the invariants of every result.
func checkWellFormed(t *testing.T, r *Result) {
	t.Helper()
	for file, text := range map[string]string{"passwd": r.Passwd, "group": r.Group, "nsswitch.conf": r.NSSwitch} {
		if !strings.HasSuffix(text, "\n") || strings.Contains(text, "\n\n") {
			t.Errorf("%s is not newline-terminated lines: %q", file, text)
		}
	}
	names := map[string]bool{}
	ids := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(r.Passwd, "\n"), "\n") {
		f := strings.Split(l, ":")
		if len(f) != 7 {
			t.Errorf("passwd line %q has %d fields, want 7", l, len(f))
			continue
		}
		if names[f[0]] || ids[f[2]] {
			t.Errorf("passwd line %q repeats a name or uid", l)
		}
		names[f[0]], ids[f[2]] = true, true
	}
	names, ids = map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(r.Group, "\n"), "\n") {
		f := strings.Split(l, ":")
		if len(f) != 4 {
			t.Errorf("group line %q has %d fields, want 4", l, len(f))
			continue
		}
		if names[f[0]] || ids[f[2]] {
			t.Errorf("group line %q repeats a name or gid", l)
		}
		names[f[0]], ids[f[2]] = true, true
	}
	if !ids[strconv.Itoa(r.GID)] {
		t.Errorf("group has no line for the primary gid %d:\n%s", r.GID, r.Group)
	}
	if want := []string{"libnss_files.so.2", "libnss_dns.so.2"}; !slices.Equal(r.Modules, want) {
		t.Errorf("Modules = %q, want %q", r.Modules, want)
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		in    Input
		field string
		want  string // the full Error() text
	}{
		{Input{User: "a:b:c"}, "user", `user: bad user spec "a:b:c": want uid, name, uid:gid or name:group`},
		{Input{User: "::"}, "user", `user: bad user spec "::": want uid, name, uid:gid or name:group`},
		{Input{User: ":5"}, "user", `user: bad user spec ":5": the user part is empty`},
		{Input{User: "5:"}, "user", `user: bad user spec "5:": the group part is empty`},
		{Input{User: ":"}, "user", `user: bad user spec ":": the user part is empty`},
		{Input{User: "-1"}, "user", `user: bad uid "-1": want 0..2147483647`},
		{Input{User: "2147483648"}, "user", `user: bad uid "2147483648": want 0..2147483647`},
		{Input{User: "99999999999999999999999"}, "user", `user: bad uid "99999999999999999999999": want 0..2147483647`},
		{Input{User: "10:-5"}, "user", `user: bad gid "-5": want 0..2147483647`},
		{Input{User: "app:4294967295"}, "user", `user: bad gid "4294967295": want 0..2147483647`},
		{Input{User: "App"}, "user", `user: bad user name "App": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{User: "1app"}, "user", `user: bad user name "1app": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{User: "+5"}, "user", `user: bad user name "+5": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{User: " app"}, "user", `user: bad user name " app": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{User: strings.Repeat("a", 33)}, "user", `user: bad user name "` + strings.Repeat("a", 33) + `": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{User: "app:Web"}, "user", `user: bad group name "Web": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{User: "app:x"}, "user", `user: unknown group "x": add it to groups or use a number`},
		{Input{User: "1000:smith2"}, "user", `user: unknown group "smith2": add it to groups or use a number`},
		{Input{User: "app", Groups: []string{"web", "db", "adm", "adm"}}, "groups[3]", `groups[3]: "adm" is listed twice`},
		{Input{Groups: []string{"web", "web"}}, "groups[1]", `groups[1]: "web" is listed twice`},
		{Input{Groups: []string{"adm", "4"}}, "groups[1]", `groups[1]: "4" is the same group as "adm" (groups[0])`},
		{Input{Groups: []string{"2000", "02000"}}, "groups[1]", `groups[1]: "02000" is the same group as "2000" (groups[0])`},
		{Input{Groups: []string{"web", "Bad"}}, "groups[1]", `groups[1]: bad group name "Bad": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{Groups: []string{""}}, "groups[0]", `groups[0]: bad group name "": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{Groups: []string{"a:b"}}, "groups[0]", `groups[0]: bad group name "a:b": want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`},
		{Input{Groups: []string{"0"}}, "groups[0]", `groups[0]: bad group id "0": want 1..2147483647`},
		{Input{Groups: []string{"-3"}}, "groups[0]", `groups[0]: bad group id "-3": want 1..2147483647`},
		{Input{Groups: []string{"2147483648"}}, "groups[0]", `groups[0]: bad group id "2147483648": want 1..2147483647`},
		{Input{Groups: []string{"group2000", "2000"}}, "groups[1]", `groups[1]: group name "group2000" is already used by gid 1000`},
		{Input{User: "1000:2147483647", Groups: []string{"web"}}, "groups[0]", `groups[0]: no free group id for "web"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r, err := Resolve(tt.in)
			if err == nil {
				t.Fatalf("Resolve(%+v) = %+v, want an error", tt.in, r)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.Item() != tt.field {
				t.Errorf("Item() = %q, want %q", e.Item(), tt.field)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	const nsswitch = "passwd: files\n" +
		"group: files\n" +
		"shadow: files\n" +
		"hosts: files dns\n" +
		"networks: files\n" +
		"protocols: files\n" +
		"services: files\n"
	tests := []struct {
		name          string
		in            Input
		passwd, group string
	}{
		{
			// smith bug B10's input: 7 fields, gid 2000, final newline.
			name: "uid:gid with nss",
			in:   Input{User: "1000:2000", NSS: true},
			passwd: passwdLow +
				"smith:x:1000:2000:smith:/write:/sbin/nologin\n" +
				passwdNobody,
			group: "root:x:0:\n" +
				"daemon:x:1:\n" +
				"bin:x:2:\n" +
				"sys:x:3:\n" +
				"adm:x:4:\n" +
				"tty:x:5:\n" +
				"smith:x:2000:\n" +
				"nogroup:x:65534:\n",
		},
		{
			// smith bug B11's input: the user stays in adm.
			name: "named user with groups",
			in:   Input{User: "nginx", Groups: []string{"adm", "www", "3000", "cache"}},
			passwd: passwdLow +
				"nginx:x:10:10:nginx:/write:/sbin/nologin\n" +
				passwdNobody,
			group: "root:x:0:\n" +
				"daemon:x:1:\n" +
				"bin:x:2:\n" +
				"sys:x:3:\n" +
				"adm:x:4:nginx\n" +
				"tty:x:5:\n" +
				"nginx:x:10:\n" +
				"www:x:1000:nginx\n" +
				"cache:x:1001:nginx\n" +
				"group3000:x:3000:nginx\n" +
				"nogroup:x:65534:\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Generate {
				t.Error("Generate = false, want true")
			}
			if r.Passwd != tt.passwd {
				t.Errorf("passwd:\n got:\n%s\nwant:\n%s", r.Passwd, tt.passwd)
			}
			if r.Group != tt.group {
				t.Errorf("group:\n got:\n%s\nwant:\n%s", r.Group, tt.group)
			}
			if r.NSSwitch != nsswitch {
				t.Errorf("nsswitch.conf:\n got:\n%s\nwant:\n%s", r.NSSwitch, nsswitch)
			}
			checkWellFormed(t, r)
		})
	}
}

// TestDeterministic checks that equal inputs give equal results and that
// the result does not share the Modules slice between calls.
func TestDeterministic(t *testing.T) {
	in := Input{User: "app:web", Groups: []string{"web", "db", "adm", "7", "tty"}, NSS: true}
	a, err := Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := Resolve(in)
		if err != nil {
			t.Fatal(err)
		}
		if a.Passwd != b.Passwd || a.Group != b.Group || a.NSSwitch != b.NSSwitch {
			t.Fatalf("results differ:\n%+v\n%+v", a, b)
		}
	}
	a.Modules[0] = "changed"
	if b, _ := Resolve(in); b.Modules[0] != "libnss_files.so.2" {
		t.Error("Modules is shared between results")
	}
}

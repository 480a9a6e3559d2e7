package passwd

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Input holds the smith.yaml fields that shape the user database.
type Input struct {
	User   string   // smith.yaml `user` (OCI user spec: "", "uid", "name", "uid:gid", "name:group", mixed)
	Groups []string // smith.yaml `groups`: supplementary groups (names or numeric ids) the user joins
	NSS    bool     // smith.yaml `nss: true`
}

// Result is the resolved runtime user and the files that describe it.
type Result struct {
	UID, GID int    // the runtime user's resolved ids
	Name     string // the user's name in passwd
	// Generate reports whether to write the files:
	// NSS || a non-numeric part in User || len(Groups) > 0.
	Generate bool
	// File contents, always computed; each line is newline-terminated.
	Passwd, Group, NSSwitch string
	// Modules are the NSS modules nsswitch.conf names, as sonames.
	Modules []string
}

// Error is a problem with one smith.yaml field.
type Error struct {
	Field string // "user" or "groups"
	Index int    // the item of groups at fault
	Msg   string
}

// Item names the value at fault: "user" or "groups[2]".
func (e *Error) Item() string {
	if e.Field == "groups" {
		return e.Field + "[" + strconv.Itoa(e.Index) + "]"
	}
	return e.Field
}

func (e *Error) Error() string { return e.Item() + ": " + e.Msg }

const (
	maxID       = 1<<31 - 1 // largest uid or gid accepted
	maxName     = 32        // longest user or group name
	defaultName = "smith"   // name of the default and of unnamed users
	defaultID   = 10        // uid and gid of the default and of new users
	firstAlloc  = 1000      // lowest id allocated to a new group
	shell       = "/sbin/nologin"
	writeHome   = "/write"
)

type user struct {
	name     string
	uid, gid int
	home     string
}

type group struct {
	name string
	gid  int
}

// Built-in users and groups, sorted by id.
var (
	builtinUsers = []user{
		{"root", 0, 0, "/root"},
		{"daemon", 1, 1, "/"},
		{"bin", 2, 2, "/"},
		{"sys", 3, 3, "/"},
		{"nobody", 65534, 65534, "/"},
	}
	builtinGroups = []group{
		{"root", 0}, {"daemon", 1}, {"bin", 2}, {"sys", 3},
		{"adm", 4}, {"tty", 5}, {"nogroup", 65534},
	}
)

// Modules lists the NSS modules that NSSwitch names, as sonames.
var modules = []string{"libnss_files.so.2", "libnss_dns.so.2"}

const nsswitch = "passwd: files\n" +
	"group: files\n" +
	"shadow: files\n" +
	"hosts: files dns\n" +
	"networks: files\n" +
	"protocols: files\n" +
	"services: files\n"

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$`)

const nameWant = `want [a-z_][a-z0-9_-]*, an optional final "$", at most 32 characters`

func validName(s string) bool { return len(s) <= maxName && nameRE.MatchString(s) }

// numeric reports whether s looks like an id: digits, optionally after "-"
// (so that a negative id gets an id error rather than a name error).
func numeric(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseID parses a numeric s; ok is false when it is outside min..maxID.
func parseID(s string, min int) (int, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false // "-0" is 0 to strconv, and maybe root to a runtime
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < int64(min) || n > maxID {
		return 0, false
	}
	return int(n), true
}

func userByName(name string) (user, bool) {
	i := slices.IndexFunc(builtinUsers, func(u user) bool { return u.name == name })
	if i < 0 {
		return user{}, false
	}
	return builtinUsers[i], true
}

func userByID(uid int) (user, bool) {
	i := slices.IndexFunc(builtinUsers, func(u user) bool { return u.uid == uid })
	if i < 0 {
		return user{}, false
	}
	return builtinUsers[i], true
}

func groupByName(name string) (group, bool) {
	i := slices.IndexFunc(builtinGroups, func(g group) bool { return g.name == name })
	if i < 0 {
		return group{}, false
	}
	return builtinGroups[i], true
}

func groupByID(gid int) (group, bool) {
	i := slices.IndexFunc(builtinGroups, func(g group) bool { return g.gid == gid })
	if i < 0 {
		return group{}, false
	}
	return builtinGroups[i], true
}

func userErr(format string, args ...any) error {
	return &Error{Field: "user", Msg: fmt.Sprintf(format, args...)}
}

func groupsErr(i int, format string, args ...any) error {
	return &Error{Field: "groups", Index: i, Msg: fmt.Sprintf(format, args...)}
}

// spec is the parsed `user` field.
type spec struct {
	user, group string // the two parts; group is "" when absent
	hasGroup    bool
}

func parseSpec(s string) (spec, error) {
	if strings.Count(s, ":") > 1 {
		return spec{}, userErr("bad user spec %q: want uid, name, uid:gid or name:group", s)
	}
	u, g, hasGroup := strings.Cut(s, ":")
	if hasGroup && u == "" {
		return spec{}, userErr("bad user spec %q: the user part is empty", s)
	}
	if hasGroup && g == "" {
		return spec{}, userErr("bad user spec %q: the group part is empty", s)
	}
	return spec{user: u, group: g, hasGroup: hasGroup}, nil
}

// entry is one classified `groups` item.
type entry struct {
	index   int
	raw     string
	name    string
	gid     int
	alloc   bool // a new name that needs an id
	primary bool // the runtime user's primary group: no member line
}

// Resolve resolves the runtime user and renders the user database files.
// Errors are of type *Error.
func Resolve(in Input) (*Result, error) {
	sp, err := parseSpec(in.User)
	if err != nil {
		return nil, err
	}
	u, err := userPart(sp.user)
	if err != nil {
		return nil, err
	}
	entries, err := groupEntries(in.Groups)
	if err != nil {
		return nil, err
	}
	pg, err := groupPart(sp, u, entries)
	if err != nil {
		return nil, err
	}
	if err := allocate(entries, &pg, u.defGID); err != nil {
		return nil, err
	}
	group, err := groupFile(entries, pg, u.name)
	if err != nil {
		return nil, err
	}
	return &Result{
		UID:      u.uid,
		GID:      pg.gid,
		Name:     u.name,
		Generate: in.NSS || len(in.Groups) > 0 || u.named || pg.named,
		Passwd:   passwdFile(u, pg.gid),
		Group:    group,
		NSSwitch: nsswitch,
		Modules:  slices.Clone(modules),
	}, nil
}

// runtimeUser is the runtime user as the user part of the spec names it.
type runtimeUser struct {
	name    string
	uid     int
	defGID  int  // gid when the spec has no group part
	builtin bool // one of builtinUsers
	named   bool // the spec names the user: the files are written
}

// userPart resolves the user part of the spec.
func userPart(s string) (runtimeUser, error) {
	var u runtimeUser
	switch {
	case s == "":
		u.name, u.uid, u.defGID = defaultName, defaultID, defaultID
	case numeric(s):
		id, ok := parseID(s, 0)
		if !ok {
			return runtimeUser{}, userErr("bad uid %q: want 0..%d", s, maxID)
		}
		u.uid = id
		if b, ok := userByID(id); ok {
			u.name, u.defGID, u.builtin = b.name, b.gid, true
		} else {
			u.name, u.defGID = defaultName, defaultID
		}
	default:
		if !validName(s) {
			return runtimeUser{}, userErr("bad user name %q: %s", s, nameWant)
		}
		u.named = true
		u.name = s
		if b, ok := userByName(s); ok {
			u.uid, u.defGID, u.builtin = b.uid, b.gid, true
		} else {
			u.uid, u.defGID = defaultID, defaultID
		}
	}
	return u, nil
}

// groupEntries classifies the `groups` items: syntax and duplicates.
func groupEntries(groups []string) ([]entry, error) {
	entries := make([]entry, 0, len(groups))
	seen := map[string]int{} // group identity -> index in entries
	for i, raw := range groups {
		e := entry{index: i, raw: raw}
		var key string
		switch {
		case numeric(raw):
			id, ok := parseID(raw, 1)
			if !ok {
				return nil, groupsErr(i, "bad group id %q: want 1..%d", raw, maxID)
			}
			e.gid = id
			if b, ok := groupByID(id); ok {
				e.name = b.name
			} else {
				e.name = "group" + strconv.Itoa(id)
			}
			key = "#" + strconv.Itoa(id)
		case validName(raw):
			e.name = raw
			if b, ok := groupByName(raw); ok {
				e.gid = b.gid
				key = "#" + strconv.Itoa(b.gid)
			} else {
				e.alloc = true
				key = raw
			}
		default:
			return nil, groupsErr(i, "bad group name %q: %s", raw, nameWant)
		}
		if j, dup := seen[key]; dup {
			if first := entries[j].raw; first != raw {
				return nil, groupsErr(i, "%q is the same group as %q (groups[%d])", raw, first, j)
			}
			return nil, groupsErr(i, "%q is listed twice", raw)
		}
		seen[key] = len(entries)
		entries = append(entries, e)
	}
	return entries, nil
}

// primaryGroup is the runtime user's primary group.
type primaryGroup struct {
	gid        int
	name       string
	fromGroups int  // index in entries of the primary group when it is a new `groups` name, else -1
	named      bool // the spec names the group: the files are written
}

// groupPart resolves the group part of the spec, marking the entries that
// name the primary group.
func groupPart(sp spec, u runtimeUser, entries []entry) (primaryGroup, error) {
	pg := primaryGroup{fromGroups: -1}
	switch {
	case !sp.hasGroup:
		pg.gid = u.defGID
	case numeric(sp.group):
		id, ok := parseID(sp.group, 0)
		if !ok {
			return primaryGroup{}, userErr("bad gid %q: want 0..%d", sp.group, maxID)
		}
		pg.gid = id
	default:
		if !validName(sp.group) {
			return primaryGroup{}, userErr("bad group name %q: %s", sp.group, nameWant)
		}
		pg.named = true
		if b, ok := groupByName(sp.group); ok {
			pg.gid = b.gid
		} else if sp.group == u.name {
			pg.gid = u.defGID // a personal group
		} else if j := slices.IndexFunc(entries, func(e entry) bool { return e.alloc && e.name == sp.group }); j >= 0 {
			pg.fromGroups = j
			pg.name = sp.group
			entries[j].primary = true
		} else {
			return primaryGroup{}, userErr("unknown group %q: add it to groups or use a number", sp.group)
		}
	}
	if pg.fromGroups < 0 {
		// Name the primary group after a built-in group with its gid, else
		// after the user, unless a built-in group already owns that name.
		if b, ok := groupByID(pg.gid); ok {
			pg.name = b.name
		} else if _, taken := groupByName(u.name); !taken {
			pg.name = u.name
		} else {
			pg.name = "group" + strconv.Itoa(pg.gid)
		}
		// A `groups` entry naming the primary group is the primary group.
		for j := range entries {
			e := &entries[j]
			if (!e.alloc && e.gid == pg.gid) || (e.alloc && e.name == pg.name) {
				e.primary, e.alloc, e.gid = true, false, pg.gid
			}
		}
	}
	return pg, nil
}

// allocate gives ids to new group names, in order, from max(GID+1, 1000),
// skipping every id already in use. A primary group from `groups` gets its
// gid here.
func allocate(entries []entry, pg *primaryGroup, defGID int) error {
	used := map[int]bool{}
	for _, g := range builtinGroups {
		used[g.gid] = true
	}
	base := pg.gid
	if pg.fromGroups >= 0 {
		base = defGID
	} else {
		used[pg.gid] = true
	}
	for _, e := range entries {
		if !e.alloc {
			used[e.gid] = true
		}
	}
	next := max(base+1, firstAlloc)
	for j := range entries {
		e := &entries[j]
		if !e.alloc {
			continue
		}
		for next <= maxID && used[next] {
			next++
		}
		if next > maxID {
			return groupsErr(e.index, "no free group id for %q", e.raw)
		}
		e.gid = next
		used[next] = true
	}
	if pg.fromGroups >= 0 {
		pg.gid = entries[pg.fromGroups].gid
	}
	return nil
}

// groupFile renders the group file: built-ins, the primary group and every
// `groups` entry, with the user (named name) as a member of the latter.
func groupFile(entries []entry, pg primaryGroup, name string) (string, error) {
	type line struct {
		name    string
		gid     int
		members []string
	}
	lines := map[int]*line{}
	names := map[string]int{} // group name -> gid
	for _, g := range builtinGroups {
		lines[g.gid] = &line{name: g.name, gid: g.gid}
		names[g.name] = g.gid
	}
	if _, ok := lines[pg.gid]; !ok {
		lines[pg.gid] = &line{name: pg.name, gid: pg.gid}
		names[pg.name] = pg.gid
	}
	for _, e := range entries {
		if e.primary {
			continue
		}
		l, ok := lines[e.gid]
		if !ok {
			if other, taken := names[e.name]; taken {
				return "", groupsErr(e.index, "group name %q is already used by gid %d", e.name, other)
			}
			l = &line{name: e.name, gid: e.gid}
			lines[e.gid] = l
			names[e.name] = e.gid
		}
		l.members = append(l.members, name)
	}
	gids := make([]int, 0, len(lines))
	for g := range lines {
		gids = append(gids, g)
	}
	slices.Sort(gids)
	var gb strings.Builder
	for _, g := range gids {
		l := lines[g]
		fmt.Fprintf(&gb, "%s:x:%d:%s\n", l.name, l.gid, strings.Join(l.members, ","))
	}
	return gb.String(), nil
}

// passwdFile renders the passwd file: built-ins plus the runtime user u,
// whose primary group is gid, by uid.
func passwdFile(u runtimeUser, gid int) string {
	users := slices.Clone(builtinUsers)
	runtime := user{name: u.name, uid: u.uid, gid: gid, home: writeHome}
	if u.builtin {
		i := slices.IndexFunc(users, func(b user) bool { return b.name == u.name })
		if users[i].home != "/root" {
			users[i].home = writeHome
		}
		users[i].gid = gid
	} else {
		users = append(users, runtime)
		slices.SortFunc(users, func(a, b user) int { return a.uid - b.uid })
	}
	var pb strings.Builder
	for _, e := range users {
		fmt.Fprintf(&pb, "%s:x:%d:%d:%s:%s:%s\n", e.name, e.uid, e.gid, e.name, e.home, shell)
	}
	return pb.String()
}

package closure

import (
	"testing"
	"testing/fstest"
)

func TestPhysicalPaths(t *testing.T) {
	fsys := fstest.MapFS{
		"bin":                          lnk("usr/bin"),
		"lib":                          lnk("/usr/lib"),
		"usr/bin/ls":                   exe("ls"),
		"usr/lib/x/libc.so.6":          txt("libc"),
		"usr/lib/x/libpcre.so.0":       lnk("libpcre.so.0.1"),
		"escape":                       lnk("../../.."),
		"usr/share/doc/coreutils/copy": txt("c"),
	}
	phys := PhysicalPaths(fsys)
	for in, want := range map[string]string{
		"/bin/ls":                  "/usr/bin/ls",
		"/lib/x/libc.so.6":         "/usr/lib/x/libc.so.6",
		"/lib/x/libpcre.so.0":      "/usr/lib/x/libpcre.so.0", // the link itself, not its target
		"/usr/share/doc/coreutils": "/usr/share/doc/coreutils",
		"/escape/usr/bin/ls":       "/usr/bin/ls", // clamped at the root
		"/":                        "/",
	} {
		got, err := phys(in)
		if err != nil || got != want {
			t.Errorf("phys(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := phys("/nope/x"); err == nil {
		t.Error("a missing directory resolved")
	}
}

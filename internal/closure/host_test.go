package closure

import (
	"os"
	"path"
	"strings"
	"testing"
)

// TestHostLs resolves the build machine's /usr/bin/ls through os.DirFS("/"),
// which exercises real merged-/usr links and a real glibc loader chain.
func TestHostLs(t *testing.T) {
	if _, err := os.Lstat("/usr/bin/ls"); err != nil {
		t.Skip("no /usr/bin/ls on this host")
	}
	c, err := Resolve(os.DirFS("/"), paths("/usr/bin/ls"))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	var libc, interp bool
	for _, e := range c.Entries {
		if e.Kind != File {
			continue
		}
		base := path.Base(e.Path)
		libc = libc || base == "libc.so.6"
		interp = interp || strings.HasPrefix(base, "ld-linux") || strings.HasPrefix(base, "ld64.so")
	}
	if !libc {
		t.Skip("no libc.so.6 in the closure: not a glibc host")
	}
	if !interp {
		var b strings.Builder
		_ = c.Why(&b)
		t.Fatalf("no loader in the closure:\n%s", b.String())
	}
	if testing.Verbose() {
		var b strings.Builder
		_ = c.Why(&b)
		t.Log("\n" + b.String())
	}
}

package manifest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	files := strings.Join([]string{
		"smith-hello-0:1.0-1.el9.x86_64\t/usr/bin/smith-hello",
		"smith-libgreet-0:1.0-1.el9.x86_64\t/usr/lib64/libgreet.so.1",
		"smith-libgreet-0:1.0-1.el9.x86_64\t/usr/lib64/libgreet.so.1.0.0",
		"smith-sh-0:1.0-1.el9.x86_64\t/bin/sh",
		"",
	}, "\n")
	packages := "smith-hello-0:1.0-1.el9.x86_64\nsmith-libgreet-0:1.0-1.el9.x86_64\nsmith-sh-0:1.0-1.el9.x86_64\n"
	m, err := Build([]string{"/usr/lib64/libgreet.so.1.0.0", "/usr/bin/smith-hello", "/etc/passwd", "/usr/lib64/libgreet.so.1", "/read/data"}, files, packages)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m)
	want := `{"packages":[{"nevra":"smith-hello-0:1.0-1.el9.x86_64","files":["/usr/bin/smith-hello"]},` +
		`{"nevra":"smith-libgreet-0:1.0-1.el9.x86_64","files":["/usr/lib64/libgreet.so.1","/usr/lib64/libgreet.so.1.0.0"]}],` +
		`"unused":["smith-sh-0:1.0-1.el9.x86_64"],"unowned":["/etc/passwd","/read/data"]}`
	if string(got) != want {
		t.Errorf("manifest\n got %s\nwant %s", got, want)
	}
	if _, err := Build(nil, "garbage line\n", ""); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad input: err = %v", err)
	}
}

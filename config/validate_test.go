package config

import (
	"strings"
	"testing"
)

// TestValidate: the checks that look at more than one key, with the
// messages and positions the build has always given.
func TestValidate(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"package: a/b\nrepos: [{name: r, baseurl: ./r, gpgcheck: false}]\n", "smith.yaml:2:1: repos: only applies to RPM installs (type mock), but the package is an image"},
		{"package: a/b\nemulate: true\n", "smith.yaml:2:1: emulate: only applies to RPM installs"},
		{"package: x\nmock: {config: /etc/mock/x.cfg}\n", "smith.yaml:2:16: mock: mock.config, pre-build and post-build are not implemented: smith installs with dnf (see installer and repos)"},
		{"package: x\nmock: {debuginfo: true}\n", "smith.yaml:2:1: mock: debuginfo images are not implemented yet"},
		{"package: x\nmock:\n  deps: [a]\n  pre-build: ./pre.sh\n", "smith.yaml:4:14: mock: mock.config, pre-build and post-build are not implemented"},
		{"package: x\nmock:\n  post-build: ./post.sh\n", "smith.yaml:3:15: mock: mock.config, pre-build and post-build are not implemented"},
		{"package: x\nmock:\n  debugdeps: [app-debuginfo]\n", "smith.yaml:2:1: mock: debuginfo images are not implemented yet"},
		{"package: x\nmock:\n  debugpaths: [/usr/lib/debug/x]\n", "smith.yaml:2:1: mock: debuginfo images are not implemented yet"},
		{"type: oci\npackage: [a/b, c/d]\n", "smith.yaml:2:16: package[1]: type oci takes exactly one image"},
		{"type: mock\npaths: []\n", "smith.yaml: package: no package to install"},
		{"package: ['./rpms/$(reboot).rpm']\n", `smith.yaml:1:11: package: "./rpms/$(reboot).rpm": local RPM paths may use letters, digits, glob characters and . _ / + @ % = , ~ -`},
		{"package: httpd\nmock: {deps: ['./a b.rpm']}\n", `smith.yaml:2:15: package: "./a b.rpm": local RPM paths may use`},
	} {
		_, err := Parse("smith.yaml", []byte(tc.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant prefix %q", tc.yaml, err, tc.want)
		}
	}
	for _, ok := range []string{
		"type: oci\npackage: a/b\npaths: [/x]\nuser: \"1000:1000\"\n",
		"package: httpd\nmock: {deps: [mod_ssl, ./rpms/*.rpm]}\nrepos: [{name: r, baseurl: ./r, gpgcheck: false}]\nemulate: true\n",
		"user: app\n",
	} {
		if _, err := Parse("smith.yaml", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestLockable(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"package: a/b\n", "smith.yaml:1:1: package: smith.lock pins RPM installs; this package is an image (pin it by digest instead)"},
		{"package: httpd\nrepos: [{name: r, baseurl: 'https://r/', gpgcheck: false, sslclientcert: c, sslclientkey: k}]\n", "smith.yaml:2:9: repos[0]: smith.lock cannot pin packages of a repository that needs a client certificate"},
		{"package: httpd\n", ""},
	} {
		f, err := Parse("smith.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		err = f.Lockable()
		if (tc.want == "") != (err == nil) || err != nil && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
}

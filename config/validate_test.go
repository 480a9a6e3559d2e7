package config

import (
	"strings"
	"testing"
)

// TestValidate: files whose keys pass the checks that look at more than
// one key (the refusals are in testdata/invalid.json, see TestParseErrors).
func TestValidate(t *testing.T) {
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

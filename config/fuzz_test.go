package config

import (
	"errors"
	"testing"
)

// FuzzParse: any input either parses or fails with a positioned *Error;
// it never panics.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "# syntax=x\n", "package: a\npaths: [/x]\n", "ports: {80: {}}\n", "env: {A: 1}\n",
		"mock: {deps: [a]}\n", "repos: [{name: a, baseurl: ./r, gpgcheck: false}]\n", "labels: {a: [1]}\n",
		"paths: &a [/x]\nexcludes: *a\n", "- a\n", "user: a:b\ngroups: [c]\n", "type: container\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("smith.yaml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *config.Error: %v", err)
			}
			return
		}
		if _, err := file.Normalized(); err != nil {
			t.Fatalf("Normalized: %v", err)
		}
	})
}

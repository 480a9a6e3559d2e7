package config

import (
	"slices"
	"testing"
)

// TestKeyTable: every key decodes, normalizes and is documented, once.
func TestKeyTable(t *testing.T) {
	seen := map[string]bool{}
	var check func(prefix string, ks []Key)
	check = func(prefix string, ks []Key) {
		for _, k := range ks {
			name := prefix + k.Name
			if seen[name] {
				t.Errorf("%s: defined twice", name)
			}
			seen[name] = true
			if k.decode == nil || k.normalize == nil || k.Doc == "" || k.Applies == 0 {
				t.Errorf("%s: needs a decoder, a normalizer, a doc line and the types it applies to", name)
			}
			check(name+".", k.Sub)
		}
	}
	check("", Keys())
}

func TestAppliesTo(t *testing.T) {
	var oci, mock, none []string
	for _, k := range Keys() {
		if k.AppliesTo(TypeOCI) {
			oci = append(oci, k.Name)
		}
		if k.AppliesTo(TypeMock) {
			mock = append(mock, k.Name)
		}
		if k.AppliesTo("") {
			none = append(none, k.Name)
		}
	}
	for _, k := range []string{"installer", "releasever", "repos", "installer_repos", "localpkg_gpgcheck", "emulate"} {
		if slices.Contains(oci, k) || !slices.Contains(mock, k) {
			t.Errorf("%s: want an RPM-only key", k)
		}
	}
	for _, k := range []string{"package", "paths", "parent", "user", "probe"} {
		if !slices.Contains(oci, k) || !slices.Contains(mock, k) {
			t.Errorf("%s: want a key of both types", k)
		}
	}
	if !slices.Equal(none, keyNames(Keys())) {
		t.Errorf("without a type, keys %v apply, want every key", none)
	}
}

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

func TestKeysFor(t *testing.T) {
	names := func(ks []Key) []string { return keyNames(ks) }
	oci, mock := names(KeysFor(TypeOCI)), names(KeysFor(TypeMock))
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
	if got := names(KeysFor("")); !slices.Equal(got, names(Keys())) {
		t.Errorf("KeysFor(\"\") = %v, want every key", got)
	}
}

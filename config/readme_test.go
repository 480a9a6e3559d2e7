package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEKeys: every key of the table (Keys) has its entry in the
// README's reference (**`key`** — …), so a new key cannot ship
// undocumented.
func TestREADMEKeys(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, k := range Keys() {
		if !strings.Contains(readme, "**`"+k.Name+"`**") && !strings.Contains(readme, "**`"+k.Name+".") {
			t.Errorf("README.md has no **`%s`** entry", k.Name)
		}
		for _, sub := range k.Sub {
			if !strings.Contains(readme, "`"+k.Name+"."+sub.Name+"`") && !strings.Contains(readme, "**`"+k.Name+"."+sub.Name+"`**") &&
				!strings.Contains(mockEntry(readme, k.Name), "`"+sub.Name+"`") {
				t.Errorf("README.md does not mention the %s key %q", k.Name, sub.Name)
			}
		}
	}
	for _, k := range itemKeyNames(probeKeys) {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("README.md does not mention the probe key %q", k)
		}
	}
	for _, k := range itemKeyNames(repoKeys) {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("README.md does not mention the repos key %q", k)
		}
	}
}

// mockEntry returns the README paragraph of key's entry (from its first
// **`key.…`** or **`key`** heading to the next blank line), or "".
func mockEntry(readme, key string) string {
	i := strings.Index(readme, "**`"+key+".")
	if i < 0 {
		i = strings.Index(readme, "**`"+key+"`**")
	}
	if i < 0 {
		return ""
	}
	entry, _, _ := strings.Cut(readme[i:], "\n\n")
	return entry
}

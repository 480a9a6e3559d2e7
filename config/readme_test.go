package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEKeys: every smith.yaml key has its entry in the README's
// reference (**`key`** — …), so a new key cannot ship undocumented.
func TestREADMEKeys(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, k := range topKeys {
		if !strings.Contains(readme, "**`"+k+"`**") && !strings.Contains(readme, "**`"+k+".") {
			t.Errorf("README.md has no **`%s`** entry", k)
		}
	}
	for _, k := range probeKeys {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("README.md does not mention the probe key %q", k)
		}
	}
	for _, k := range repoKeys {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("README.md does not mention the repos key %q", k)
		}
	}
}

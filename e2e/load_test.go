package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestParallelBuilds: eight different builds at once on one buildkitd all
// succeed, each with its own files and config.
func TestParallelBuilds(t *testing.T) {
	requireE2E(t)
	programs := []string{"cat", "ls", "id", "env", "uname", "date", "head", "wc"}
	type result struct {
		img *image
		out string
		err error
	}
	results := make([]result, len(programs))
	var wg sync.WaitGroup
	for i, prog := range programs {
		p := newProject(t, fmt.Sprintf("package: $BASE\npaths: [/usr/bin/%s]\nlabels: {case: %q}\n", prog, prog),
			map[string]string{"read/case": prog + "\n"})
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, out, err := p.tryBuild(t)
			results[i] = result{img, out, err}
		}()
	}
	wg.Wait()
	for i, prog := range programs {
		r := results[i]
		if r.err != nil {
			t.Errorf("%s: %v\n%s", prog, r.err, tail(r.out, 30))
			continue
		}
		if got := r.img.config.Config.Labels["case"]; got != prog {
			t.Errorf("%s: label case=%q", prog, got)
		}
		if string(r.img.data["/read/case"]) != prog+"\n" || !r.img.has("/usr/bin/"+prog) {
			t.Errorf("%s: image holds %q", prog, r.img.paths())
		}
		for _, other := range programs {
			if other != prog && r.img.has("/usr/bin/"+other) {
				t.Errorf("%s: image also holds /usr/bin/%s", prog, other)
			}
		}
		stdout, stderr, err := r.img.run(t, "/usr/bin/"+prog, "--version")
		if err != nil || !strings.Contains(stdout+stderr, "GNU coreutils") {
			t.Errorf("%s --version: %v %q %q", prog, err, stdout, stderr)
		}
	}
}

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const catYAML = "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\ncmd: [/usr/bin/cat, /read/data]\n"

// stepCached reports whether the plain-progress output shows the step whose
// name starts with prefix as CACHED.
func stepCached(t *testing.T, out, prefix string) bool {
	t.Helper()
	m := regexp.MustCompile(`(?m)^#(\d+) ` + regexp.QuoteMeta(prefix)).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no step %q in the build output:\n%s", prefix, out)
	}
	return regexp.MustCompile(`(?m)^#` + m[1] + ` CACHED$`).MatchString(out)
}

const traceStep = "[smith] trace and copy"

// TestReproducible builds twice from scratch with SOURCE_DATE_EPOCH and gets
// the same manifest digest, with every mtime and the created time at the epoch.
func TestReproducible(t *testing.T) {
	requireE2E(t)
	p := newProject(t, catYAML, map[string]string{"read/data": "same bytes\n"})
	a, _ := p.build(t, "--no-cache", "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000")
	// From an empty build cache, as on a fresh daemon.
	if out, err := buildctl(t, "prune", "--all"); err != nil {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	b, _ := p.build(t, "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000")
	if a.manifest != b.manifest {
		t.Errorf("manifest digests differ: %s vs %s", a.manifest, b.manifest)
	}
	for p, h := range a.files {
		if h.ModTime.Unix() != 1700000000 {
			t.Errorf("%s mtime %d, want 1700000000", p, h.ModTime.Unix())
		}
	}
	if a.config.Created == nil || a.config.Created.Unix() != 1700000000 {
		t.Errorf("created = %v", a.config.Created)
	}
	c, _ := p.build(t, "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000001")
	if c.manifest == a.manifest {
		t.Error("a different SOURCE_DATE_EPOCH gave the same digest")
	}
}

// TestNoCache: --no-cache re-runs the trace step; a plain rebuild does not.
func TestNoCache(t *testing.T) {
	requireE2E(t)
	p := newProject(t, catYAML, map[string]string{"read/data": "cache\n"})
	p.build(t)
	if _, out := p.build(t); !stepCached(t, out, traceStep) {
		t.Errorf("an identical rebuild re-ran the trace step:\n%s", out)
	}
	if _, out := p.build(t, "--no-cache"); stepCached(t, out, traceStep) {
		t.Errorf("--no-cache did not re-run the trace step:\n%s", out)
	}
}

// TestCacheImport: a mode=max cache export restores the trace step after the
// daemon's cache is pruned, so the frontend passes the client's cache imports.
func TestCacheImport(t *testing.T) {
	requireE2E(t)
	cache := t.TempDir()
	p := newProject(t, catYAML, map[string]string{"read/data": "cache import " + t.Name() + "\n"})
	p.build(t, "--export-cache", "type=local,dest="+cache+",mode=max")
	if out, err := buildctl(t, "prune", "--all"); err != nil {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	_, out := p.build(t, "--import-cache", "type=local,src="+cache)
	if !stepCached(t, out, traceStep) {
		t.Errorf("the trace step was not restored from the imported cache:\n%s", out)
	}
}

// TestOCILayoutContext takes the source from an OCI layout on disk.
func TestOCILayoutContext(t *testing.T) {
	requireE2E(t)
	// Export the test image as an OCI layout with BuildKit itself.
	layout := t.TempDir()
	dfDir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dfDir, "Dockerfile"), []byte("FROM "+testEnv.base+"\n"), 0o644))
	if out, err := buildctl(t, "build", "--frontend", "dockerfile.v0", "--local", "context="+dfDir,
		"--local", "dockerfile="+dfDir, "--output", "type=oci,tar=false,dest="+layout); err != nil {
		t.Fatalf("exporting the layout: %v\n%s", err, out)
	}
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	must(t, err)
	must(t, json.Unmarshal(b, &idx))
	p := newProject(t, strings.Replace(catYAML, "$BASE", "base", 1), map[string]string{"read/data": "from a layout\n"})
	img, _ := p.build(t, "--oci-layout", "store="+layout, "--opt", "context:base=oci-layout://store@"+idx.Manifests[0].Digest)
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "from a layout\n" {
		t.Fatalf("run: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}

// TestOfflineLLB: `smith-frontend llb` output builds with plain buildctl.
func TestOfflineLLB(t *testing.T) {
	requireE2E(t)
	bin := filepath.Join(os.Getenv("SMITH_HELPER_DIR"), "smith-frontend")
	p := newProject(t, catYAML, map[string]string{"read/data": "offline\n"})
	cfg := filepath.Join(t.TempDir(), "config.json")
	llbCmd := exec.Command(bin, "llb", "--helper-image", testEnv.frontend, "--image-config", cfg, "smith.yaml")
	llbCmd.Dir = p.dir
	def, err := llbCmd.Output()
	if err != nil {
		t.Fatalf("smith-frontend llb: %v", err)
	}
	dest := filepath.Join(t.TempDir(), "image.tar")
	build := exec.Command("buildctl", "build", "--local", "context="+p.dir, "--output", "type=oci,dest="+dest)
	build.Stdin = strings.NewReader(string(def))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("buildctl build < llb: %v\n%s", err, out)
	}
	img := readImage(t, dest)
	if !img.has("/usr/bin/cat") || string(img.data["/read/data"]) != "offline\n" {
		t.Errorf("unexpected files: %v", img.paths())
	}
	b, err := os.ReadFile(cfg)
	must(t, err)
	if !strings.Contains(string(b), `"/read/data"`) {
		t.Errorf("image config lacks the cmd: %s", b)
	}
}

// TestPlatforms builds one smith.yaml for two platforms: each image traces
// its own architecture's libraries, says so in its config, and runs.
func TestPlatforms(t *testing.T) {
	requireE2E(t)
	p := newProject(t, catYAML, map[string]string{"read/data": "multi-platform\n"})
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildctl(t, "build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source="+testEnv.frontend,
		"--local", "context="+p.dir, "--local", "dockerfile="+p.dir, "--opt", "filename=smith.yaml",
		"--opt", "platform=linux/amd64,linux/386", "--output", "type=oci,dest="+dest)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for platform, loader := range map[string]string{
		"linux/amd64": "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"linux/386":   "/usr/lib/i386-linux-gnu/ld-linux.so.2",
	} {
		img := readImageFor(t, dest, platform)
		if got := img.config.OS + "/" + img.config.Architecture; got != platform {
			t.Errorf("%s: config says %s", platform, got)
		}
		if !img.has(loader) {
			t.Errorf("%s: no %s in %v", platform, loader, img.paths())
		}
		stdout, stderr, err := img.run(t)
		if err != nil || stdout != "multi-platform\n" {
			t.Errorf("%s: run: %v, stdout %q, stderr %q", platform, err, stdout, stderr)
		}
	}
}

// TestSBOM: --sbom gets smith's own SPDX document, with package URLs from
// the package database, and BuildKit runs no scanner (none could be pulled
// here).
func TestSBOM(t *testing.T) {
	requireE2E(t)
	p := newProject(t, catYAML, map[string]string{"read/data": "sbom\n"})
	img, _ := p.build(t, "--opt", "attest:sbom=")
	stmt := img.attestation(t, "https://spdx.dev/Document")
	if stmt == nil {
		t.Fatal("no SPDX attestation")
	}
	b, _ := json.Marshal(stmt["predicate"])
	for _, want := range []string{`"spdxVersion":"SPDX-2.3"`, `pkg:deb/debian/coreutils@`, `pkg:deb/debian/libc6@`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("SBOM lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "pkg:deb/debian/bash@") {
		t.Errorf("the SBOM lists bash, which is not in the image: %s", b)
	}
}

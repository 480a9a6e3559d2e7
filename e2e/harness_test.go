package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// env is what the tests need from hack/up, read once.
type env struct {
	frontend string // the frontend image ref
	registry string // host:port of the local registry
	base     string // the Debian test image
	root     string // repository root
}

var testEnv env

func TestMain(m *testing.M) {
	root, _ := filepath.Abs("..")
	registry := getenv("SMITH_REGISTRY", "127.0.0.1:5000")
	testEnv = env{
		frontend: getenv("SMITH_FRONTEND_IMAGE", registry+"/smith:dev"),
		registry: registry,
		base:     registry + "/test/debian:bookworm",
		root:     root,
	}
	os.Exit(m.Run())
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// requireE2E skips unless SMITH_E2E is set; when it is, the daemon must answer.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("SMITH_E2E") == "" {
		t.Skip("end-to-end test: needs buildkitd, the registry and the test images; run `make test` (sets SMITH_E2E=1)")
	}
	if os.Getenv("BUILDKIT_HOST") == "" {
		t.Fatal("SMITH_E2E is set but BUILDKIT_HOST is not; source the environment hack/up prints")
	}
}

// project is a build context folder made from a smith.yaml and rootfs files.
type project struct {
	dir string
}

// newProject writes smith.yaml (with the frontend's syntax line prepended
// unless the text has one) and the given rootfs/ files into a temp dir.
func newProject(t *testing.T, yaml string, rootfs map[string]string) *project {
	t.Helper()
	dir := t.TempDir()
	if !strings.HasPrefix(yaml, "# syntax=") {
		yaml = "# syntax=" + testEnv.frontend + "\n" + yaml
	}
	yaml = strings.ReplaceAll(yaml, "$BASE", testEnv.base)
	must(t, os.WriteFile(filepath.Join(dir, "smith.yaml"), []byte(yaml), 0o644))
	for name, content := range rootfs {
		p := filepath.Join(dir, "rootfs", name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return &project{dir: dir}
}

// pushImage builds a Dockerfile, with files beside it, through BuildKit's
// Dockerfile frontend and pushes it to the local registry as repo with a
// tag of its own; it returns the reference.
func pushImage(t *testing.T, repo, dockerfile string, files map[string][]byte) string {
	t.Helper()
	ctx := t.TempDir()
	for name, b := range files {
		must(t, os.WriteFile(filepath.Join(ctx, name), b, 0o644))
	}
	must(t, os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644))
	ref := fmt.Sprintf("%s/%s:%d", testEnv.registry, repo, time.Now().UnixNano())
	if out, err := buildctl(t, "build", "--frontend", "dockerfile.v0", "--local", "context="+ctx, "--local", "dockerfile="+ctx,
		"--output", "type=image,name="+ref+",push=true"); err != nil {
		t.Fatalf("building %s: %v\n%s", ref, err, out)
	}
	return ref
}

// buildctl runs buildctl and returns its combined output.
func buildctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "buildctl", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// build builds the project through the frontend image (gateway.v0, as
// `buildctl build --frontend gateway.v0` users do) into an OCI tarball.
func (p *project) build(t *testing.T, extra ...string) (*image, string) {
	t.Helper()
	img, out, err := p.tryBuild(t, extra...)
	if err != nil {
		t.Fatalf("build failed: %v\n%s", err, out)
	}
	return img, out
}

func (p *project) tryBuild(t *testing.T, extra ...string) (*image, string, error) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "image.tar")
	args := append([]string{"build", "--progress=plain",
		"--frontend", "gateway.v0", "--opt", "source=" + testEnv.frontend,
		"--local", "context=" + p.dir, "--local", "dockerfile=" + p.dir,
		"--opt", "filename=smith.yaml",
		"--output", "type=oci,dest=" + dest,
	}, extra...)
	out, err := buildctl(t, args...)
	if err != nil {
		return nil, out, err
	}
	return readImage(t, dest), out, nil
}

// image is an exported single-platform OCI image, flattened.
type image struct {
	path     string // the OCI tarball
	desc     ocispecs.Descriptor
	manifest string // the manifest digest
	config   ocispecs.Image
	layers   int
	files    map[string]*tar.Header // by absolute path
	data     map[string][]byte      // regular file contents
	blobs    map[string][]byte      // every blob of the tarball, by digest
}

func readImage(t *testing.T, tarball string) *image {
	t.Helper()
	return readImageFor(t, tarball, "")
}

// readImageFor reads the image for platform ("os/arch") out of an OCI
// tarball; "" takes the only (or first) image.
func readImageFor(t *testing.T, tarball, platform string) *image {
	t.Helper()
	blobs := map[string][]byte{}
	f, err := os.Open(tarball)
	must(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	var index ocispecs.Index
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		switch {
		case h.Name == "index.json":
			must(t, json.Unmarshal(b, &index))
		case strings.HasPrefix(h.Name, "blobs/sha256/"):
			blobs["sha256:"+strings.TrimPrefix(h.Name, "blobs/sha256/")] = b
		}
	}
	desc, ok := findManifest(t, blobs, index.Manifests, platform)
	if !ok {
		t.Fatalf("%s: no image for platform %q", tarball, platform)
	}
	var m ocispecs.Manifest
	must(t, json.Unmarshal(blobs[desc.Digest.String()], &m))
	img := &image{path: tarball, desc: desc, manifest: desc.Digest.String(), files: map[string]*tar.Header{},
		data: map[string][]byte{}, blobs: blobs, layers: len(m.Layers)}
	must(t, json.Unmarshal(blobs[m.Config.Digest.String()], &img.config))
	for _, l := range m.Layers {
		for h, r := range layerEntries(t, blobs[l.Digest.String()]) {
			name := path.Clean("/" + h.Name)
			img.files[name] = h
			if h.Typeflag == tar.TypeReg {
				b, err := io.ReadAll(r)
				must(t, err)
				img.data[name] = b
			}
		}
	}
	return img
}

// findManifest walks (nested) indexes to the image manifest for platform,
// skipping attestation manifests.
func findManifest(t *testing.T, blobs map[string][]byte, descs []ocispecs.Descriptor, platform string) (ocispecs.Descriptor, bool) {
	for _, d := range descs {
		switch d.MediaType {
		case ocispecs.MediaTypeImageIndex:
			var idx ocispecs.Index
			must(t, json.Unmarshal(blobs[d.Digest.String()], &idx))
			if m, ok := findManifest(t, blobs, idx.Manifests, platform); ok {
				return m, true
			}
		case ocispecs.MediaTypeImageManifest:
			if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue
			}
			if platform == "" || (d.Platform != nil && d.Platform.OS+"/"+d.Platform.Architecture == platform) {
				return d, true
			}
		}
	}
	return ocispecs.Descriptor{}, false
}

// attestation returns the in-toto statement with the given predicate type
// from the image's attestation manifest in the OCI tarball, or nil.
func (img *image) attestation(t *testing.T, predicateType string) map[string]any {
	t.Helper()
	blobs := img.blobs
	for _, b := range blobs {
		var idx ocispecs.Index
		if json.Unmarshal(b, &idx) != nil || idx.MediaType != ocispecs.MediaTypeImageIndex {
			continue
		}
		for _, d := range idx.Manifests {
			if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" ||
				d.Annotations["vnd.docker.reference.digest"] != img.manifest {
				continue
			}
			var m ocispecs.Manifest
			must(t, json.Unmarshal(blobs[d.Digest.String()], &m))
			for _, l := range m.Layers {
				if l.Annotations["in-toto.io/predicate-type"] != predicateType {
					continue
				}
				var stmt map[string]any
				must(t, json.Unmarshal(blobs[l.Digest.String()], &stmt))
				return stmt
			}
		}
	}
	return nil
}

// paths lists the image's files, sorted.
func (img *image) paths() []string {
	var ps []string
	for p := range img.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

func (img *image) has(p string) bool { _, ok := img.files[p]; return ok }

// run unpacks the image into a runc bundle and runs it with a read-only
// root, returning stdout and stderr. The image's own entrypoint and cmd run
// unless args is given.
func (img *image) run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	bundle := img.bundle(t, func(spec map[string]any) {
		if len(args) > 0 {
			spec["process"].(map[string]any)["args"] = args
		}
	})
	return runBundle(t, bundle, nil)
}

// bundle unpacks the image with umoci and adjusts the runtime spec.
func (img *image) bundle(t *testing.T, edit func(spec map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	must(t, os.MkdirAll(layout, 0o755))
	mustRun(t, "tar", "-C", layout, "-xf", img.path)
	// umoci finds images by their ref.name annotation: make the index list
	// just this image's manifest, under a name.
	desc := img.desc
	desc.Annotations = map[string]string{"org.opencontainers.image.ref.name": "test"}
	b, err := json.Marshal(ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{desc}})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(layout, "index.json"), b, 0o644))

	bundle := filepath.Join(dir, "bundle")
	mustRun(t, "umoci", "--log", "error", "unpack", "--image", layout+":test", bundle)
	specPath := filepath.Join(bundle, "config.json")
	var spec map[string]any
	b, err = os.ReadFile(specPath)
	must(t, err)
	must(t, json.Unmarshal(b, &spec))
	spec["process"].(map[string]any)["terminal"] = false
	spec["root"].(map[string]any)["readonly"] = true
	if edit != nil {
		edit(spec)
	}
	b, err = json.MarshalIndent(spec, "", "  ")
	must(t, err)
	must(t, os.WriteFile(specPath, b, 0o644))
	return bundle
}

var containerSeq int

// runBundle runs a bundle to completion (or until ctx ends) with runc.
func runBundle(t *testing.T, bundle string, stdin io.Reader) (string, string, error) {
	t.Helper()
	containerSeq++
	id := fmt.Sprintf("smith-e2e-%d-%d", os.Getpid(), containerSeq)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runc", "run", "--bundle", bundle, id)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, &stderr, stdin
	err := cmd.Run()
	_ = exec.Command("runc", "delete", "-f", id).Run()
	return stdout.String(), stderr.String(), err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// lock writes smith.lock beside the project's smith.yaml (--opt
// smith-lock=1, with the test installer and extra) and returns it.
func (p *project) lock(t *testing.T, extra ...string) []byte {
	t.Helper()
	args := []string{"build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + testEnv.frontend,
		"--local", "context=" + p.dir, "--local", "dockerfile=" + p.dir, "--opt", "filename=smith.yaml",
		"--opt", "smith-lock=1", "--output", "type=local,dest=" + p.dir}
	out, err := buildctl(t, append(append(args, installerOpt()...), extra...)...)
	if err != nil {
		t.Fatalf("locking: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(p.dir, "smith.lock"))
	must(t, err)
	return b
}

// buildxCheck runs docker buildx build --check on the smith.yaml of dir,
// with extra arguments, and returns its output.
func buildxCheck(dir string, extra ...string) (string, error) {
	args := append([]string{"buildx", "build", "--builder", "smith", "--check", "-f", "smith.yaml"}, extra...)
	cmd := exec.Command("docker", append(args, ".")...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

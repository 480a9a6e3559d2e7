package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestHostile builds every case of testdata/hostile (see its README): each
// must fail with its expected message (or, with an "ok" file, build), never
// panic, and never put content from outside the build context into an
// image.
func TestHostile(t *testing.T) {
	requireE2E(t)
	dirs, err := filepath.Glob(filepath.Join(testEnv.root, "testdata/hostile/*/want"))
	must(t, err)
	if len(dirs) < 60 {
		t.Fatalf("only %d hostile cases", len(dirs))
	}
	for _, w := range dirs {
		dir := filepath.Dir(w)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			p, args := hostileProject(t, dir)
			img, out, err := p.tryBuild(t, args...)
			for _, bad := range []string{"panic:", "goroutine ", "buildkitsandbox"} {
				if strings.Contains(out, bad) {
					t.Errorf("output has %q:\n%s", bad, out)
				}
			}
			b, _ := os.ReadFile(w)
			if _, ok := os.Stat(filepath.Join(dir, "ok")); ok == nil {
				if err != nil {
					t.Fatalf("build failed: %v\n%s", err, out)
				}
				for p, data := range img.data {
					if bytes.Contains(data, []byte("buildkitsandbox")) {
						t.Errorf("%s holds the build container's data", p)
					}
				}
				if _, err := os.Lstat(filepath.Join(dir, "rootfs/etc/hosts")); err == nil {
					if h := img.files["/etc/hosts"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/etc/hosts" {
						t.Errorf("rootfs/etc/hosts, a link out of rootfs/, was not copied as that link: %+v", h)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("built, want an error with %q", strings.TrimSpace(string(b)))
			}
			for _, want := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, tail(out, 40))
				}
			}
		})
	}
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// hostileProject lays out a case: its smith.yaml (or a generated one), its
// rootfs (links kept as links), and its build arguments.
func hostileProject(t *testing.T, dir string) (*project, []string) {
	t.Helper()
	p := &project{dir: t.TempDir()}
	yaml, _ := os.ReadFile(filepath.Join(dir, "smith.yaml"))
	if g, err := os.ReadFile(filepath.Join(dir, "gen")); err == nil {
		yaml = []byte(generate(t, strings.TrimSpace(string(g)), p.dir))
	}
	text := "# syntax=" + testEnv.frontend + "\n" + strings.ReplaceAll(string(yaml), "$BASE", testEnv.base)
	must(t, os.WriteFile(filepath.Join(p.dir, "smith.yaml"), []byte(text), 0o644))
	for _, name := range []string{"rootfs", "smith.lock"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			mustRun(t, "cp", "-a", filepath.Join(dir, name), filepath.Join(p.dir, name))
		}
	}
	var args []string
	if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
		args = strings.Fields(string(b))
	}
	return p, args
}

// generate writes what a case too large (or too binary) to keep in git
// needs into dir and returns its smith.yaml.
func generate(t *testing.T, name, dir string) string {
	t.Helper()
	cat := "package: $BASE\npaths: [/usr/bin/cat]\n"
	archive := func(layers ...[]byte) string {
		writeOCIArchive(t, filepath.Join(dir, "img.tar"), layers)
		return "package: img.tar\npaths: [/x]\n"
	}
	switch name {
	case "big-comment":
		return "# " + strings.Repeat("x", 2<<20) + "\n" + cat
	case "many-paths":
		return "package: $BASE\npaths:\n" + strings.Repeat("- /usr/bin/cat\n", 12000)
	case "ok-3000-paths":
		var b strings.Builder
		b.WriteString("package: $BASE\npaths:\n")
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(&b, "- %s\n", []string{"/usr/bin/cat", "/usr/bin/ls", "/usr/bin/id"}[i%3])
		}
		return b.String()
	case "big-label":
		return cat + "labels:\n  big: " + strings.Repeat("y", 100<<10) + "\n"
	case "xz-archive":
		must(t, os.WriteFile(filepath.Join(dir, "img.tar"), append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, make([]byte, 64)...), 0o644))
		return "package: img.tar\npaths: [/x]\n"
	case "many-layers":
		var layers [][]byte
		for i := 0; i < 200; i++ {
			layers = append(layers, tarOf(t, map[string]string{fmt.Sprintf("f%d", i): "x"}))
		}
		return archive(layers...)
	case "gzip-bomb": // its args file sets SMITH_MAX_ARCHIVE_BYTES=1000000
		return archive(tarOf(t, map[string]string{"zeros": strings.Repeat("\x00", 5<<20)}))
	case "long-entry-name":
		return archive(tarOf(t, map[string]string{strings.Repeat("n", 300): "x"}))
	case "tar-slip":
		return archive(tarOf(t, map[string]string{"../escape": "x"}))
	}
	t.Fatalf("unknown generator %q", name)
	return ""
}

// tarOf makes a tar of regular files.
func tarOf(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, data := range files {
		must(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}))
		_, err := tw.Write([]byte(data))
		must(t, err)
	}
	must(t, tw.Close())
	return b.Bytes()
}

// writeOCIArchive writes an OCI image layout tar with the given layers
// (uncompressed tars, stored gzip'd).
func writeOCIArchive(t *testing.T, path string, layers [][]byte) {
	t.Helper()
	blobs := map[digest.Digest][]byte{}
	add := func(b []byte) digest.Digest { d := digest.FromBytes(b); blobs[d] = b; return d }
	cfg := ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispecs.RootFS{Type: "layers"}}
	m := ocispecs.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageManifest}
	for _, l := range layers {
		sum := sha256.Sum256(l)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.NewDigestFromBytes(digest.SHA256, sum[:]))
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, err := zw.Write(l)
		must(t, err)
		must(t, zw.Close())
		m.Layers = append(m.Layers, ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageLayerGzip, Digest: add(z.Bytes()), Size: int64(z.Len())})
	}
	cb, err := json.Marshal(cfg)
	must(t, err)
	m.Config = ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageConfig, Digest: add(cb), Size: int64(len(cb))}
	mb, err := json.Marshal(m)
	must(t, err)
	idx := ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageIndex,
		Manifests: []ocispecs.Descriptor{{MediaType: ocispecs.MediaTypeImageManifest, Digest: add(mb), Size: int64(len(mb))}}}
	ib, err := json.Marshal(idx)
	must(t, err)
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	put := func(name string, b []byte) {
		must(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(b)
		must(t, err)
	}
	put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	put("index.json", ib)
	for d, b := range blobs {
		put("blobs/sha256/"+d.Encoded(), b)
	}
	must(t, tw.Close())
	must(t, os.WriteFile(path, out.Bytes(), 0o644))
}

// TestCheckHostile: `docker buildx build --check` reports, without building,
// every hostile case that needs nothing fetched (those with a "check" file),
// with the same message as the build.
func TestCheckHostile(t *testing.T) {
	requireE2E(t)
	marks, err := filepath.Glob(filepath.Join(testEnv.root, "testdata/hostile/*/check"))
	must(t, err)
	if len(marks) < 40 {
		t.Fatalf("only %d --check cases", len(marks))
	}
	for _, m := range marks {
		dir := filepath.Dir(m)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			p, args := hostileProject(t, dir)
			var buildArgs []string
			for i := 0; i+1 < len(args); i += 2 {
				if v, ok := strings.CutPrefix(args[i+1], "build-arg:"); ok && args[i] == "--opt" {
					buildArgs = append(buildArgs, "--build-arg", v)
				}
			}
			out, err := buildxCheck(p.dir, buildArgs...)
			if err == nil {
				t.Fatalf("--check passed:\n%s", out)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "want"))
			for _, want := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if !strings.Contains(out, want) {
					t.Errorf("--check output lacks %q:\n%s", want, tail(out, 30))
				}
			}
		})
	}
}

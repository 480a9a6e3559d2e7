package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// registryGet reads a manifest, index or blob from the local registry.
func registryGet(t *testing.T, path string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+testEnv.registry+"/v2/"+path, nil)
	must(t, err)
	req.Header.Set("Accept", ocispecs.MediaTypeImageIndex+", "+ocispecs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, b)
	}
	return b
}

// TestFrontendImagePlatforms: the frontend image hack/build-frontend pushed
// is one index for four platforms, each with a static binary for its own
// machine, the rpm that locked builds install with (for the same machine,
// and it runs), the version and the frontend labels.
func TestFrontendImagePlatforms(t *testing.T) {
	requireE2E(t)
	repo, tag, _ := strings.Cut(strings.TrimPrefix(testEnv.frontend, testEnv.registry+"/"), ":")
	var idx ocispecs.Index
	must(t, json.Unmarshal(registryGet(t, repo+"/manifests/"+tag), &idx))
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}
	seen := map[string]bool{}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			continue
		}
		arch := d.Platform.Architecture
		want, ok := machines[arch]
		if !ok {
			continue
		}
		seen[arch] = true
		var m ocispecs.Manifest
		must(t, json.Unmarshal(registryGet(t, repo+"/manifests/"+d.Digest.String()), &m))
		var cfg ocispecs.Image
		must(t, json.Unmarshal(registryGet(t, repo+"/blobs/"+m.Config.Digest.String()), &cfg))
		if cfg.Architecture != arch || cfg.Config.Labels["org.opencontainers.image.version"] == "" ||
			!strings.Contains(cfg.Config.Labels["moby.buildkit.frontend.caps"], "moby.buildkit.frontend.contexts") {
			t.Errorf("%s: config %s, labels %v", arch, cfg.Architecture, cfg.Config.Labels)
		}
		bin := binaryIn(t, registryGet(t, repo+"/blobs/"+m.Layers[len(m.Layers)-1].Digest.String()), "smith-frontend")
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("%s: /smith-frontend is not ELF: %v", arch, err)
		}
		if f.Machine != want || f.Class != elf.ELFCLASS64 || (arch == "ppc64le") != (f.Data == elf.ELFDATA2LSB && f.Machine == elf.EM_PPC64) {
			t.Errorf("%s: /smith-frontend is %v %v %v", arch, f.Machine, f.Class, f.Data)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: /smith-frontend is dynamically linked", arch)
			}
		}
		// The rpm locked builds install with, for the same machine.
		if len(m.Layers) < 2 {
			t.Fatalf("%s: %d layers, want the rpm's and the binary's", arch, len(m.Layers))
		}
		rpmLayer := registryGet(t, repo+"/blobs/"+m.Layers[len(m.Layers)-2].Digest.String())
		rpm, err := elf.NewFile(bytes.NewReader(binaryIn(t, rpmLayer, "usr/bin/rpm")))
		if err != nil || rpm.Machine != want {
			t.Errorf("%s: /usr/bin/rpm: %v %v", arch, err, rpm)
		}
		checkRPMRuns(t, arch, rpmLayer)
	}
	for arch := range machines {
		if !seen[arch] {
			t.Errorf("the frontend image has no linux/%s manifest: %+v", arch, idx.Manifests)
		}
	}
	out, err := exec.Command(filepath.Join(os.Getenv("SMITH_HELPER_DIR"), "smith-frontend"), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "smith-frontend ") || strings.TrimSpace(string(out)) == "smith-frontend dev" {
		t.Errorf("smith-frontend version: %v %q (want the git version)", err, out)
	}
}

// binaryIn returns the content of the file name at the top of a gzip'd
// layer tar.
func binaryIn(t *testing.T, layer []byte, name string) []byte {
	t.Helper()
	for h, r := range layerEntries(t, layer) {
		if strings.TrimPrefix(h.Name, "./") == name || strings.TrimPrefix(h.Name, "/") == name {
			b, err := io.ReadAll(r)
			must(t, err)
			return b
		}
	}
	t.Fatalf("the layer has no %s", name)
	return nil
}

// layerEntries yields each entry of a gzip'd layer tar with its content.
func layerEntries(t *testing.T, layer []byte) iter.Seq2[*tar.Header, io.Reader] {
	return func(yield func(*tar.Header, io.Reader) bool) {
		zr, err := gzip.NewReader(bytes.NewReader(layer))
		must(t, err)
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			must(t, err)
			if !yield(h, tr) {
				return
			}
		}
	}
}

// checkRPMRuns runs the rpm of a frontend image's layer, for any machine,
// under qemu-user (-L: its own loader and libraries): its configuration is
// found, and it makes a database, imports a key and verifies a signed
// package, so every library that takes is there. (A whole install needs a
// chroot, which qemu-user does not follow; the locked-build tests do that
// natively.)
func checkRPMRuns(t *testing.T, arch string, layer []byte) {
	t.Helper()
	qemuArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x"}[arch]
	qemu, err := exec.LookPath("qemu-" + qemuArch)
	if err != nil {
		t.Fatalf("qemu-%s not found: hack/install-deps --test-tools installs qemu-user", qemuArch)
	}
	fx := getRPMFixtures(t)
	root := t.TempDir()
	untarGz(t, layer, root)
	db := t.TempDir()
	rpm := func(tool string, args ...string) string {
		cmd := exec.Command(qemu, append([]string{"-L", root, filepath.Join(root, "usr/bin", tool)}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %s %q: %v\n%s", arch, tool, args, err, out)
		}
		return string(out)
	}
	if out := rpm("rpm", "--eval", "%{_dbpath}"); out != "/var/lib/rpm\n" {
		t.Errorf("%s: rpm's database is at %q, want /var/lib/rpm", arch, out)
	}
	rpm("rpmdb", "--root", db, "--initdb")
	rpm("rpmkeys", "--root", db, "--import", fx.dir+"/RPM-GPG-KEY-smith-test")
	pkg := fx.dir + "/repo/smith-hello-1.0-1.el9.x86_64.rpm"
	if out := rpm("rpmkeys", "--root", db, "--checksig", pkg); out != pkg+": digests signatures OK\n" {
		t.Errorf("%s: rpmkeys --checksig: %q", arch, out)
	}
}

// untarGz unpacks a gzip-compressed layer of regular files, folders and
// symlinks into dir, absolute links made relative to it.
func untarGz(t *testing.T, layer []byte, dir string) {
	t.Helper()
	for h, r := range layerEntries(t, layer) {
		name := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			must(t, os.MkdirAll(name, 0o755))
		case tar.TypeSymlink:
			must(t, os.MkdirAll(filepath.Dir(name), 0o755))
			target := h.Linkname
			if filepath.IsAbs(target) {
				// As a container sees it, not the host: relative to dir
				// (qemu-user's -L does not re-root links).
				var err error
				target, err = filepath.Rel(filepath.Dir(name), filepath.Join(dir, target))
				must(t, err)
			}
			must(t, os.Symlink(target, name))
		case tar.TypeReg:
			must(t, os.MkdirAll(filepath.Dir(name), 0o755))
			b, err := io.ReadAll(r)
			must(t, err)
			must(t, os.WriteFile(name, b, os.FileMode(h.Mode)&0o755|0o600))
		}
	}
}

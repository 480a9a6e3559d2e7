package e2e

import (
	"bytes"
	"debug/elf"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Other architectures without emulation: the build runs every step on the
// build machine (dnf --forcearch for RPMs), and only the test runs the
// result, under qemu-user, to check it.

// elfMachines returns the machine of every ELF file in the image.
func (img *image) elfMachines(t *testing.T) map[string]elf.Machine {
	t.Helper()
	out := map[string]elf.Machine{}
	for p, b := range img.data {
		if !bytes.HasPrefix(b, []byte("\x7fELF")) {
			continue
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[p] = f.Machine
	}
	return out
}

// runQEMU unpacks img and runs args[0] (a path in the image) with
// qemu-aarch64, the image as its root for the loader and libraries.
func (img *image) runQEMU(t *testing.T, args ...string) (string, error) {
	t.Helper()
	qemu, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		t.Fatal("qemu-aarch64 not found: hack/install-deps --test-tools installs qemu-user")
	}
	rootfs := filepath.Join(img.bundle(t, nil), "rootfs")
	cmd := exec.Command(qemu, append([]string{"-L", rootfs, filepath.Join(rootfs, args[0])}, args[1:]...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

func TestRPMCrossArch(t *testing.T) {
	requireE2E(t)
	p := rpmProject(t, `package: [smith-hello, smith-post]
repos: [{name: fixtures, baseurl: $REPO, gpgkey: $KEY}]
paths: [/usr/bin/smith-hello]
cmd: [/usr/bin/smith-hello]
`, nil)
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildctl(t, append([]string{"build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + testEnv.frontend,
		"--local", "context=" + p.dir, "--local", "dockerfile=" + p.dir, "--opt", "filename=smith.yaml",
		"--opt", "platform=linux/amd64,linux/arm64", "--no-cache", "--output", "type=oci,dest=" + dest}, installerOpt()...)...)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// arm64's dnf ran on amd64: the installer was not emulated, and the
	// skipped scriptlet is named.
	if !strings.Contains(out, "smith: installed for aarch64 on x86_64 without emulation: these scriptlets did not run") ||
		!strings.Contains(out, "smith-post %post") {
		t.Errorf("no word of the skipped scriptlets:\n%s", out)
	}
	for plat, want := range map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64} {
		img := readImageFor(t, dest, plat)
		if img.config.Architecture != strings.TrimPrefix(plat, "linux/") {
			t.Errorf("%s: config architecture %q", plat, img.config.Architecture)
		}
		ms := img.elfMachines(t)
		if len(ms) < 3 {
			t.Errorf("%s: only %d ELF files: %v", plat, len(ms), img.paths())
		}
		for p, m := range ms {
			if m != want {
				t.Errorf("%s: %s is for %v", plat, p, m)
			}
		}
		if plat == "linux/arm64" {
			if !img.has("/usr/lib/ld-linux-aarch64.so.1") || !img.has("/lib") {
				t.Errorf("arm64 image lacks the aarch64 loader: %q", img.paths())
			}
			got, err := img.runQEMU(t, "/usr/bin/smith-hello")
			if err != nil || got != "Hello from libgreet.so.1, smith-hello!\n" {
				t.Errorf("smith-hello under qemu-aarch64: %v %q", err, got)
			}
			m := packageManifest(t, img)
			if ownerOf(m, "/usr/bin/smith-hello") != "smith-hello-0:1.0-1.el9.aarch64" {
				t.Errorf("arm64 manifest: %v", m)
			}
		} else if stdout, stderr, err := img.run(t); err != nil || stdout != "Hello from libgreet.so.1, smith-hello!\n" {
			t.Errorf("amd64 run: %v %q %q", err, stdout, stderr)
		}
	}
}

// TestShrinkArm64: an arm64 source image shrinks on an amd64 builder (the
// helper only reads it), and the result runs under qemu-aarch64.
func TestShrinkArm64(t *testing.T) {
	requireE2E(t)
	p := newProject(t, "package: $BASE\npaths: [/usr/bin/cat]\ncmd: [/usr/bin/cat, /read/data]\n", map[string]string{"read/data": "arm64 data\n"})
	img, _ := p.build(t, "--opt", "platform=linux/arm64")
	if img.config.Architecture != "arm64" {
		t.Errorf("config architecture %q", img.config.Architecture)
	}
	for p, m := range img.elfMachines(t) {
		if m != elf.EM_AARCH64 {
			t.Errorf("%s is for %v", p, m)
		}
	}
	if !img.has("/usr/lib/aarch64-linux-gnu/libc.so.6") {
		t.Errorf("no aarch64 libc: %q", img.paths())
	}
	// qemu-user looks for every path under -L first: /read/data is the
	// image's.
	got, err := img.runQEMU(t, "/usr/bin/cat", "/read/data")
	if err != nil || got != "arm64 data\n" {
		t.Errorf("cat under qemu-aarch64: %v %q", err, got)
	}
}

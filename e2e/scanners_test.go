package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Real scanners read the package record smith writes into the image: syft
// and trivy (built by hack/install-scanners, offline: package and OS
// detection only) must report the distribution and exactly the packages
// that own a file of the image, with their versions.

// scanner runs one of the scanners hack/install-scanners built.
func scanner(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	dir := os.Getenv("SMITH_SCANNERS")
	if dir == "" {
		t.Fatal("SMITH_SCANNERS is not set: hack/test installs syft and trivy with hack/install-scanners")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, name), args...)
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false", "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// scanned is what a scanner saw: the distribution and "name version" rows.
type scanned struct {
	distro   string // "id version"
	packages []string
}

// layoutDir unpacks the image's OCI tarball into a layout folder.
func (img *image) layoutDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustRun(t, "tar", "-C", dir, "-xf", img.path)
	return dir
}

func syftScan(t *testing.T, layout string) scanned {
	var out struct {
		Distro struct {
			ID        string `json:"id"`
			VersionID string `json:"versionID"`
		} `json:"distro"`
		Artifacts []struct {
			Name, Version, Type string
		} `json:"artifacts"`
	}
	must(t, json.Unmarshal(scanner(t, "syft", "scan", "oci-dir:"+layout, "-o", "json", "-q"), &out))
	s := scanned{distro: strings.TrimSpace(out.Distro.ID + " " + out.Distro.VersionID)}
	for _, a := range out.Artifacts {
		if a.Type == "deb" || a.Type == "rpm" {
			s.packages = append(s.packages, a.Name+" "+a.Version)
		}
	}
	sort.Strings(s.packages)
	return s
}

func trivyScan(t *testing.T, layout string) scanned {
	var out struct {
		Metadata struct {
			OS *struct{ Family, Name string }
		}
		Results []struct {
			Class    string
			Packages []struct {
				Name, Version, Release string
				Epoch                  int
			}
		}
	}
	must(t, json.Unmarshal(scanner(t, "trivy", "image", "--input", layout, "--cache-dir", t.TempDir(),
		"--offline-scan", "--skip-db-update", "--skip-java-db-update", "--skip-version-check", "--disable-telemetry",
		"--scanners", "license", "--list-all-pkgs", "-f", "json", "-q"), &out))
	var s scanned
	if os := out.Metadata.OS; os != nil && os.Family != "none" {
		s.distro = os.Family + " " + os.Name
	}
	for _, r := range out.Results {
		if r.Class != "os-pkgs" {
			continue
		}
		for _, p := range r.Packages {
			v := p.Version
			if p.Release != "" {
				v += "-" + p.Release
			}
			s.packages = append(s.packages, p.Name+" "+v)
		}
	}
	sort.Strings(s.packages)
	return s
}

// contributing lists the manifest's packages as "name version".
func contributing(t *testing.T, img *image) []string {
	var out []string
	for _, p := range packageManifest(t, img)["packages"].([]any) {
		pkg := p.(map[string]any)
		out = append(out, pkg["name"].(string)+" "+pkg["version"].(string))
	}
	sort.Strings(out)
	return out
}

// checkScans runs both scanners on img and compares what they report with
// the distribution and packages wanted ("" and nil: nothing).
func checkScans(t *testing.T, img *image, syftDistro, trivyDistro string, want []string) {
	t.Helper()
	layout := img.layoutDir(t)
	for name, s := range map[string]scanned{"syft": syftScan(t, layout), "trivy": trivyScan(t, layout)} {
		wantDistro := syftDistro
		if name == "trivy" {
			wantDistro = trivyDistro
		}
		if !strings.HasPrefix(s.distro, wantDistro) || wantDistro == "" && s.distro != "" {
			t.Errorf("%s: distribution %q, want %q", name, s.distro, wantDistro)
		}
		if strings.Join(s.packages, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s: packages\n got %q\nwant %q", name, s.packages, want)
		}
	}
}

func TestScannersDebian(t *testing.T) {
	requireE2E(t)
	img, _ := newProject(t, "package: $BASE\npaths: [/usr/bin/cat]\n", nil).build(t)
	var want []string
	for _, p := range contributing(t, img) {
		if !strings.HasPrefix(p, "base-files ") && !strings.HasPrefix(p, "coreutils ") && !strings.HasPrefix(p, "libc6 ") {
			t.Errorf("unexpected contributing package %s", p)
		}
		want = append(want, p)
	}
	if len(want) != 3 {
		t.Fatalf("contributing packages %q", want)
	}
	checkScans(t, img, "debian 12", "debian 12", want)
	for _, f := range []string{"/var/lib/dpkg/status.d/coreutils", "/var/lib/dpkg/status.d/coreutils.md5sums", "/etc/os-release", "/etc/debian_version"} {
		if !img.has(f) {
			t.Errorf("image lacks %s", f)
		}
	}
	if strings.Contains(string(img.data["/var/lib/dpkg/status.d/coreutils.md5sums"]), "usr/bin/ls") {
		t.Error("md5sums lists a file the image does not ship")
	}

	// packagedb: false: no record, and the scanners see no package.
	img, _ = newProject(t, "package: $BASE\npaths: [/usr/bin/cat]\npackagedb: false\n", nil).build(t)
	if img.has("/var/lib/dpkg/status.d") || img.has("/etc/debian_version") {
		t.Error("packagedb: false still wrote a record")
	}
	checkScans(t, img, "", "", nil)
}

func TestScannersRPM(t *testing.T) {
	requireE2E(t)
	yaml := `package: [smith-hello, smith-release]
repos: [{name: fixtures, baseurl: $REPO, gpgkey: $KEY}]
paths: [/usr/bin/smith-hello]
`
	img, _ := rpmProject(t, yaml, nil).build(t, installerOpt()...)
	want := []string{"smith-filesystem 1.0-1.el9", "smith-hello 1.0-1.el9", "smith-ldso 1.0-1.el9", "smith-libgreet 1.0-1.el9", "smith-release 9.4-1.el9"}
	if got := contributing(t, img); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("manifest packages %q, want %q", got, want)
	}
	checkScans(t, img, "almalinux 9.4", "alma 9.4", want)
	rec := string(img.data["/var/lib/rpmmanifest/container-manifest-2"])
	if strings.Count(rec, "\n") != 5 || !strings.Contains(rec, "smith-hello\t1.0-1.el9\t0\t") {
		t.Errorf("container-manifest-2 (install time = SOURCE_DATE_EPOCH):\n%s", rec)
	}
	img, _ = rpmProject(t, yaml+"packagedb: false\n", nil).build(t, installerOpt()...)
	if img.has("/var/lib/rpmmanifest/container-manifest-2") || img.has("/etc/os-release") {
		t.Error("packagedb: false still wrote a record")
	}
	checkScans(t, img, "", "", nil)
}

// TestInspect: smith-frontend inspect tells, for every file of a built
// image, its package and why it is there, from the OCI archive and from a
// layout folder.
func TestInspect(t *testing.T) {
	requireE2E(t)
	img, _ := newProject(t, "package: $BASE\npaths: [/usr/bin/cat]\n", map[string]string{"read/data": "x\n"}).build(t)
	bin := filepath.Join(os.Getenv("SMITH_HELPER_DIR"), "smith-frontend")
	for _, target := range []string{img.path, img.layoutDir(t)} {
		out := mustRun(t, bin, "inspect", target)
		for _, want := range []string{
			"distribution: debian 12",
			"coreutils_9.1-1_amd64 (partial: 1 of",
			"/usr/bin/cat ", "coreutils_9.1-1_amd64", "requested by paths[0] (/usr/bin/cat)",
			"NEEDED by /usr/bin/cat (libc.so.6)",
			"generated by smith (passwd)",
			"from rootfs/ in the build context",
			"package record for vulnerability scanners (packagedb)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("inspect %s lacks %q:\n%s", target, want, out)
			}
		}
	}
	if out, err := exec.Command(bin, "inspect", filepath.Join(t.TempDir(), "nope.tar")).CombinedOutput(); err == nil {
		t.Errorf("inspect of a missing file succeeded: %s", out)
	}
}

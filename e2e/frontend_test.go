package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyntaxDirective builds through the Dockerfile frontend, which reads
// "# syntax=" from smith.yaml and forwards to the smith image.
func TestSyntaxDirective(t *testing.T) {
	requireE2E(t)
	p := newProject(t, "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\ncmd: [/usr/bin/cat, /read/data]\n",
		map[string]string{"read/data": "via syntax\n"})
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildctl(t, "build", "--progress=plain", "--frontend", "dockerfile.v0",
		"--local", "context="+p.dir, "--local", "dockerfile="+p.dir, "--opt", "filename=smith.yaml",
		"--output", "type=oci,dest="+dest)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	stdout, stderr, err := readImage(t, dest).run(t)
	if err != nil || stdout != "via syntax\n" {
		t.Fatalf("run: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}

// TestBuildx builds the way users type it: docker buildx build -f smith.yaml .
func TestBuildx(t *testing.T) {
	requireE2E(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatal("docker CLI not found; hack/install-deps installs it")
	}
	p := newProject(t, "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\ncmd: [/usr/bin/cat, /read/data]\n",
		map[string]string{"read/data": "via buildx\n"})
	dest := filepath.Join(t.TempDir(), "image.tar")
	cmd := exec.Command("docker", "buildx", "build", "--builder", "smith", "--progress=plain",
		"-f", "smith.yaml", "--output", "type=oci,dest="+dest, ".")
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker buildx build: %v\n%s", err, out)
	}
	stdout, stderr, err := readImage(t, dest).run(t)
	if err != nil || stdout != "via buildx\n" {
		t.Fatalf("run: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}

// TestNamedContext takes the source from --build-context, like FROM does.
func TestNamedContext(t *testing.T) {
	requireE2E(t)
	p := newProject(t, "type: oci\npackage: base\npaths: [/usr/bin/cat]\ncmd: [/usr/bin/cat, /read/data]\n",
		map[string]string{"read/data": "from a named context\n"})
	img, _ := p.build(t, "--opt", "context:base=docker-image://"+testEnv.base)
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "from a named context\n" {
		t.Fatalf("run: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}

// TestHelperFallback runs the helper from the smith-helper build context
// instead of the frontend image (the path in-process builds take).
func TestHelperFallback(t *testing.T) {
	requireE2E(t)
	helperDir := os.Getenv("SMITH_HELPER_DIR")
	if helperDir == "" {
		t.Fatal("SMITH_HELPER_DIR (a folder holding the smith-frontend binary) is not set; make test sets it")
	}
	p := newProject(t, "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\ncmd: [/usr/bin/cat, /read/data]\n",
		map[string]string{"read/data": "helper from a context\n"})
	img, out := p.build(t, "--local", "helper="+helperDir, "--opt", "context:smith-helper=local:helper")
	if !strings.Contains(out, "[smith] trace and copy /usr/bin/cat") {
		t.Errorf("build output lacks the trace step:\n%s", out)
	}
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "helper from a context\n" {
		t.Fatalf("run: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}

// TestErrors checks that bad input fails with the smith.yaml line.
func TestErrors(t *testing.T) {
	requireE2E(t)
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{{
		name: "missing path",
		yaml: "type: oci\npackage: $BASE\npaths:\n- /usr/bin/cat\n- /usr/bin/catt\n",
		want: []string{`smith.yaml:6:3: paths[1]: no file matches "/usr/bin/catt"`, "smith.yaml:4", ">>> paths:"},
	}, {
		name: "unknown key",
		yaml: "type: oci\npackage: $BASE\npahts: [/usr/bin/cat]\n",
		want: []string{`smith.yaml:4:1: unknown key "pahts" (did you mean "paths"?)`, ">>> pahts: [/usr/bin/cat]"},
	}, {
		name: "string for a list",
		yaml: "type: oci\npackage: $BASE\npaths: /usr/bin/cat\n",
		want: []string{"smith.yaml:4:8: paths: expected a list of strings, got a string"},
	}, {
		name: "bad user spec",
		yaml: "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\nuser: \"a:b:c\"\n",
		want: []string{`smith.yaml:5:7: user: bad user spec "a:b:c"`, `>>> user: "a:b:c"`},
	}, {
		name: "unknown group",
		yaml: "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\nuser: app:staff\n",
		want: []string{`smith.yaml:5:7: user: unknown group "staff": add it to groups or use a number`},
	}, {
		name: "relative mount",
		yaml: "type: oci\npackage: $BASE\nmounts: [data]\n",
		want: []string{`smith.yaml:4:10: mounts[0]:`, `data`},
	}, {
		name: "port without a number",
		yaml: "type: oci\npackage: $BASE\nports: [http]\n",
		want: []string{`smith.yaml:4:9: ports[0]: "http" is not a port number`},
	}, {
		name: "malformed glob",
		yaml: "type: oci\npackage: $BASE\npaths: [\"/usr/bin/[ca\"]\n",
		want: []string{`smith.yaml:4:9: paths[0]: malformed glob "/usr/bin/[ca"`},
	}, {
		name: "unknown type",
		yaml: "type: deb\npackage: $BASE\n",
		want: []string{`smith.yaml:2:7: type: unknown type "deb" (want oci or mock)`},
	}, {
		name: "missing image",
		yaml: "type: oci\npackage: 127.0.0.1:5000/no/such:image\npaths: [/usr/bin/cat]\n",
		want: []string{"smith.yaml:3:10: package:", "127.0.0.1:5000/no/such:image"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProject(t, tc.yaml, nil)
			_, out, err := p.tryBuild(t)
			if err == nil {
				t.Fatalf("build succeeded, want an error; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCredentialsRedacted: user:pass@ in package and parent URLs is
// dropped with a warning and appears nowhere: not in the build output, not
// in the image (config, layers), not in a max-mode provenance attestation.
func TestCredentialsRedacted(t *testing.T) {
	requireE2E(t)
	p := newProject(t, "package: https://smith:s3cr3t@"+testEnv.base+"\nparent: https://smith:s3cr3t@"+testEnv.base+
		"\npaths: [/usr/bin/cat]\nentrypoint: [/usr/bin/cat]\n", nil)
	img, out := p.build(t, "--opt", "attest:provenance=mode=max")
	if !strings.Contains(out, "package and parent: credentials in the image URL are ignored") {
		t.Errorf("no warning about the package and parent credentials:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("the password appears in the build output:\n%s", out)
	}
	raw, err := os.ReadFile(img.path) // config, manifests, attestations (uncompressed JSON)
	must(t, err)
	if strings.Contains(string(raw), "s3cr3t") {
		t.Error("the password is recorded in the image or its attestations")
	}
	for name, b := range img.data { // layer contents, decompressed
		if strings.Contains(string(b), "s3cr3t") {
			t.Errorf("the password is in %s", name)
		}
	}
	if img.attestation(t, "https://slsa.dev/provenance/v1") == nil && img.attestation(t, "https://slsa.dev/provenance/v0.2") == nil {
		t.Error("no provenance attestation was exported, so it was not checked")
	}
	// A failing build shows the smith.yaml line without it, too.
	p = newProject(t, "package: https://smith:s3cr3t@"+testEnv.base+"\npaths: [/nope]\n", nil)
	_, out, err = p.tryBuild(t)
	if err == nil || strings.Contains(out, "s3cr3t") || !strings.Contains(out, `no file matches "/nope"`) {
		t.Errorf("err %v; output:\n%s", err, out)
	}
}

// TestMissingLibrary: an ELF whose library the source lacks fails the build,
// naming the file and the soname. (jq, from the build host, needs libjq,
// which the Debian test image does not have.)
func TestMissingLibrary(t *testing.T) {
	requireE2E(t)
	jq, err := os.ReadFile("/usr/bin/jq")
	if err != nil {
		t.Fatalf("this test uses the host's /usr/bin/jq (hack/install-deps installs it): %v", err)
	}
	p := newProject(t, "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\n", map[string]string{"usr/local/bin/jq": string(jq)})
	_, out, err := p.tryBuild(t)
	if err == nil {
		t.Fatalf("build succeeded:\n%s", out)
	}
	if want := "rootfs/usr/local/bin/jq: /usr/local/bin/jq needs libjq.so.1, not found in"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// TestBuildxCheck: `docker buildx build --check` validates smith.yaml
// without building: a good file passes, a bad one fails with its line.
func TestBuildxCheck(t *testing.T) {
	requireE2E(t)
	check := func(yaml string) (string, error) { return buildxCheck(newProject(t, yaml, nil).dir) }
	if out, err := check(catYAML); err != nil {
		t.Errorf("--check of a good smith.yaml: %v\n%s", err, out)
	}
	out, err := check("type: oci\npackage: $BASE\npahts: [/usr/bin/cat]\n")
	if err == nil || !strings.Contains(out, `unknown key "pahts" (did you mean "paths"?)`) {
		t.Errorf("--check of a bad smith.yaml: %v\n%s", err, out)
	}
}

// TestCheckInvalid: every smith.yaml the config tests refuse
// (config/testdata/invalid.json) is refused by `docker buildx build
// --check` too, without building, with the same message and position. The
// frontend comes from BUILDKIT_SYNTAX, so the files' lines are the tests'.
func TestCheckInvalid(t *testing.T) {
	requireE2E(t)
	b, err := os.ReadFile(filepath.Join(testEnv.root, "config/testdata/invalid.json"))
	must(t, err)
	var cases []struct {
		Name, YAML, Err string
		Prefix          bool
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	must(t, dec.Decode(&cases))
	if len(cases) < 70 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			if tc.YAML == "" || tc.Err == "" {
				t.Fatalf("a case without yaml or err: %+v", tc)
			}
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "smith.yaml"), []byte(tc.YAML), 0o644))
			out, err := buildxCheck(dir, "--build-arg", "BUILDKIT_SYNTAX="+testEnv.frontend)
			if err == nil || !strings.Contains(out, tc.Err) {
				t.Errorf("--check: %v; output lacks %q:\n%s", err, tc.Err, tail(out, 20))
			}
		})
	}
}

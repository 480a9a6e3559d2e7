package e2e

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestUsersAndGroups runs `id` and `getent` in an image built with user,
// groups and nss: the libc reads the generated files.
func TestUsersAndGroups(t *testing.T) {
	requireE2E(t)
	p := newProject(t, `type: oci
package: $BASE
paths: [/usr/bin/id, /usr/bin/getent]
user: web:www
groups: [adm, www]
nss: true
entrypoint: [/usr/bin/id]
`, nil)
	img, _ := p.build(t)
	if img.config.Config.User != "web:www" {
		t.Errorf("User = %q", img.config.Config.User)
	}
	for _, want := range []string{"/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
		"/usr/lib/x86_64-linux-gnu/libnss_files.so.2", "/usr/lib/x86_64-linux-gnu/libnss_dns.so.2"} {
		if !img.has(want) {
			t.Errorf("nss: true image lacks %s", want)
		}
	}
	// The process runs as the user the runtime resolved from the image's
	// passwd and group files (supplementary groups are the runtime's job).
	stdout, stderr, err := img.run(t)
	if err != nil {
		t.Fatalf("id: %v\n%s", err, stderr)
	}
	if want := "uid=10(web) gid=1000(www)"; !strings.HasPrefix(stdout, want) {
		t.Errorf("id printed %q, want it to start with %q", stdout, want)
	}
	// The libc reads the generated files, memberships included.
	stdout, stderr, err = img.run(t, "/usr/bin/id", "web")
	if want := "uid=10(web) gid=1000(www) groups=1000(www),4(adm)\n"; err != nil || stdout != want {
		t.Errorf("id web: %v, %q (want %q), %q", err, stdout, want, stderr)
	}
	stdout, stderr, err = img.run(t, "/usr/bin/getent", "passwd", "web")
	if err != nil || stdout != "web:x:10:1000:web:/write:/sbin/nologin\n" {
		t.Errorf("getent passwd web: %v, %q, %q", err, stdout, stderr)
	}
	if h := img.files["/write"]; h.Uid != 10 || h.Gid != 1000 {
		t.Errorf("/write owned by %d:%d, want the runtime user 10:1000", h.Uid, h.Gid)
	}
}

// TestReadOnlyRoot: as the default non-root user, on a read-only root, the
// process can write to /write (a volume, as a runtime would mount it with
// the image's ownership) and nowhere else.
func TestReadOnlyRoot(t *testing.T) {
	requireE2E(t)
	p := newProject(t, `type: oci
package: $BASE
paths: [/usr/bin/dash, /usr/bin/touch]
entrypoint: [/usr/bin/dash, -c]
cmd: ["touch /write/ok && echo wrote /write; touch /etc-file 2>/dev/null || echo denied /; touch /run/x 2>/dev/null && echo wrote /run; true"]
`, nil)
	img, _ := p.build(t)
	w := img.files["/write"]
	bundle := img.bundle(t, func(spec map[string]any) {
		spec["mounts"] = append(spec["mounts"].([]any), map[string]any{
			"destination": "/write", "type": "tmpfs", "source": "tmpfs",
			"options": []any{"nosuid", "nodev", "mode=755", "uid=" + strconv.Itoa(w.Uid), "gid=" + strconv.Itoa(w.Gid)},
		})
	})
	stdout, stderr, err := runBundle(t, bundle, nil)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if want := "wrote /write\ndenied /\n"; stdout != want {
		t.Errorf("output %q, want %q (only /write is writable)", stdout, want)
	}
}

// TestMountsPortsExcludes: volumes and ports land in the config, mount
// points exist, and an excluded subtree is gone while its siblings stay.
func TestMountsPortsExcludes(t *testing.T) {
	requireE2E(t)
	p := newProject(t, `type: oci
package: $BASE
paths: [/usr/bin/cat, /usr/share/doc/coreutils, /usr/share/doc/libc6]
excludes: [/usr/share/doc/libc6, "/usr/share/doc/*/changelog*"]
mounts: [/data, /var/cache/app]
ports: [8080, 53/udp]
dir: /srv/app
cmd: [/usr/bin/cat, /read/data]
labels: {tier: web}
`, map[string]string{"read/data": "ok\n"})
	img, _ := p.build(t, "--opt", "label:com.oracle.smith.build=7")
	c := img.config.Config
	if c.Labels["tier"] != "web" || c.Labels["com.oracle.smith.build"] != "7" {
		t.Errorf("labels from smith.yaml and --label: %v", c.Labels)
	}
	for _, v := range []string{"/data", "/var/cache/app"} {
		if _, ok := c.Volumes[v]; !ok {
			t.Errorf("Volumes %v lacks %s", c.Volumes, v)
		}
		if h := img.files[v]; h == nil || h.Typeflag != tar.TypeDir {
			t.Errorf("mount point %s is not a directory in the image", v)
		}
	}
	for _, port := range []string{"8080/tcp", "53/udp"} {
		if _, ok := c.ExposedPorts[port]; !ok {
			t.Errorf("ExposedPorts %v lacks %s", c.ExposedPorts, port)
		}
	}
	if c.WorkingDir != "/srv/app" || !img.has("/srv/app") {
		t.Errorf("WorkingDir %q; /srv/app in image: %v", c.WorkingDir, img.has("/srv/app"))
	}
	if !img.has("/usr/share/doc/coreutils/copyright") {
		t.Errorf("coreutils docs missing: %v", img.paths())
	}
	for _, f := range img.paths() {
		if strings.HasPrefix(f, "/usr/share/doc/libc6") || strings.Contains(f, "/changelog") {
			t.Errorf("%s should have been excluded", f)
		}
	}
	stdout, _, err := img.run(t)
	if err != nil || stdout != "ok\n" {
		t.Errorf("run: %v %q", err, stdout)
	}
}

// TestParent keeps a parent image's layers below the microcontainer's.
func TestParent(t *testing.T) {
	requireE2E(t)
	p := newProject(t, `type: oci
package: $BASE
parent: $BASE
paths: [/usr/bin/cat]
cmd: [/bin/bash, -c, "cat /read/data"]
`, map[string]string{"read/data": "on a parent\n"})
	img, _ := p.build(t)
	if img.layers < 2 {
		t.Errorf("%d layers: the parent's should stay below ours", img.layers)
	}
	if n := len(img.config.History); n < 2 {
		t.Errorf("history has %d entries, want the parent's plus ours", n)
	}
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "on a parent\n" {
		t.Errorf("bash from the parent: %v %q %q", err, stdout, stderr)
	}
	if !slices.Contains(img.paths(), "/bin") {
		t.Errorf("the parent's files are missing")
	}
}

// TestRootfsELF: an ELF file that rootfs/ adds is traced too; its libraries
// come from the source image.
func TestRootfsELF(t *testing.T) {
	requireE2E(t)
	ls, err := os.ReadFile("/usr/bin/ls") // a Debian 12 build, like the test image's
	if err != nil {
		t.Fatalf("this test copies the host's /usr/bin/ls: %v", err)
	}
	p := newProject(t, "type: oci\npackage: $BASE\npaths: [/usr/bin/cat]\nentrypoint: [/usr/local/bin/ls2, /]\n", nil)
	must(t, os.MkdirAll(filepath.Join(p.dir, "rootfs/usr/local/bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(p.dir, "rootfs/usr/local/bin/ls2"), ls, 0o755))
	img, out := p.build(t)
	if !img.has("/usr/lib/x86_64-linux-gnu/libselinux.so.1") || !img.has("/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0") {
		t.Errorf("the overlay's ELF was not traced: %v\n%s", img.paths(), out)
	}
	stdout, stderr, err := img.run(t)
	if err != nil || !strings.Contains(stdout, "usr") {
		t.Errorf("ls2: %v %q %q", err, stdout, stderr)
	}
}

// TestImageArchives: package and parent may name image archives in the
// build context — an OCI layout (gzipped, with a tag) and a docker save
// file — unpacked inside the build with their whiteouts honoured.
func TestImageArchives(t *testing.T) {
	requireE2E(t)
	// A three-layer image: the Debian base, a layer that deletes docs, a
	// layer that adds a file.
	df, parentDF := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(df, "Dockerfile"), []byte("FROM "+testEnv.base+
		"\nRUN rm -rf /usr/share/doc\nRUN mkdir /x && echo from-a-layer > /x/f\nENV FROM_ARCHIVE=1\n"), 0o644))
	// The parent: a deletion layer, and a config of its own.
	must(t, os.WriteFile(filepath.Join(parentDF, "Dockerfile"), []byte("FROM "+testEnv.base+
		"\nRUN rm -rf /usr/share/doc\nUSER 1234:1234\nVOLUME /pv\nSTOPSIGNAL SIGQUIT\n"), 0o644))
	p := newProject(t, `type: oci
package: images/app.tar.gz:v1
parent: images/base-docker.tar
paths: [/usr/bin/cat, /x/f]
cmd: [/usr/bin/cat, /x/f]
`, nil)
	must(t, os.MkdirAll(filepath.Join(p.dir, "images"), 0o755))
	for dir, out := range map[string]string{
		df:       "type=oci,name=example.com/app:v1,dest=" + filepath.Join(p.dir, "images/app.tar"),
		parentDF: "type=docker,name=example.com/base:1,dest=" + filepath.Join(p.dir, "images/base-docker.tar"),
	} {
		if o, err := buildctl(t, "build", "--frontend", "dockerfile.v0", "--local", "context="+dir,
			"--local", "dockerfile="+dir, "--output", out); err != nil {
			t.Fatalf("making the archive: %v\n%s", err, o)
		}
	}
	mustRun(t, "gzip", filepath.Join(p.dir, "images/app.tar"))

	img, out := p.build(t)
	stdout, stderr, err := img.run(t)
	if err != nil || stdout != "from-a-layer\n" {
		t.Fatalf("run: %v %q %q\n%s", err, stdout, stderr, out)
	}
	if img.layers != 3 {
		t.Errorf("%d layers, want the parent archive's 2 plus ours", img.layers)
	}
	c := img.config.Config
	if !slices.Contains(c.Env, "FROM_ARCHIVE=1") {
		t.Errorf("the package archive's config was not inherited: %v", c.Env)
	}
	// The parent's config gives the defaults the package image leaves open,
	// its user included.
	if _, ok := c.Volumes["/pv"]; !ok || c.User != "1234:1234" || c.StopSignal != "SIGQUIT" {
		t.Errorf("not inherited from the parent: user %q, volumes %v, stop signal %q", c.User, c.Volumes, c.StopSignal)
	}
	// The deletion layer is honoured in the parent's merged layers too.
	stdout, _, err = img.run(t, "/bin/bash", "-c", "ls /usr/share/doc 2>&1; true")
	if err != nil || !strings.Contains(stdout, "No such file or directory") {
		t.Errorf("/usr/share/doc in the parent layers: %v %q", err, stdout)
	}
	p2 := newProject(t, "type: oci\npackage: images/app.tar.gz:v1\npaths: [/usr/share/doc]\n", nil)
	must(t, os.MkdirAll(filepath.Join(p2.dir, "images"), 0o755))
	mustRun(t, "cp", filepath.Join(p.dir, "images/app.tar.gz"), filepath.Join(p2.dir, "images/"))
	if _, out, err := p2.tryBuild(t); err == nil || !strings.Contains(out, `paths[0]: no file matches "/usr/share/doc"`) {
		t.Errorf("the whiteout of /usr/share/doc was not honoured: %v\n%s", err, out)
	}
	// An unknown tag names the ones there are.
	p3 := newProject(t, "type: oci\npackage: images/app.tar.gz:nope\npaths: [/usr/bin/cat]\n", nil)
	must(t, os.MkdirAll(filepath.Join(p3.dir, "images"), 0o755))
	mustRun(t, "cp", filepath.Join(p.dir, "images/app.tar.gz"), filepath.Join(p3.dir, "images/"))
	if _, out, err := p3.tryBuild(t); err == nil || !strings.Contains(out, `no image tagged "nope"`) {
		t.Errorf("unknown tag: %v\n%s", err, out)
	}
}

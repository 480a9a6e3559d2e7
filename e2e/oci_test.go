package e2e

import (
	"archive/tar"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHello builds examples/hello as users do and runs it.
func TestHello(t *testing.T) {
	requireE2E(t)
	src, err := os.ReadFile(filepath.Join(testEnv.root, "examples/hello/smith.yaml"))
	must(t, err)
	data, err := os.ReadFile(filepath.Join(testEnv.root, "examples/hello/rootfs/read/data"))
	must(t, err)
	// The example names the default frontend image; build with the one under test.
	p := newProject(t, dropSyntax(string(src)), map[string]string{"read/data": string(data)})
	img, _ := p.build(t)

	stdout, stderr, err := img.run(t)
	if err != nil {
		t.Fatalf("running hello: %v\nstderr: %s", err, stderr)
	}
	if stdout != "Hello World!\n" {
		t.Errorf("hello printed %q, want %q", stdout, "Hello World!\n")
	}

	if img.layers != 1 {
		t.Errorf("image has %d layers, want 1", img.layers)
	}
	// Exactly cat's closure (with the merged-/usr links on the way to the
	// loader), the skeleton, the user database, rootfs/ and the package
	// record for scanners: nothing else from the source image, and nothing
	// inferred (cat looks nothing up, converts no charset, speaks no TLS).
	want := []string{"/dev", "/etc", "/etc/debian_version", "/etc/group", "/etc/os-release", "/etc/passwd", "/lib", "/lib64",
		"/proc", "/read", "/read/data", "/run", "/sys", "/usr", "/usr/bin",
		"/usr/bin/cat", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64", "/usr/lib64/ld-linux-x86-64.so.2",
		"/var", "/var/lib", "/var/lib/dpkg", "/var/lib/dpkg/status.d",
		"/var/lib/dpkg/status.d/base-files", "/var/lib/dpkg/status.d/base-files.md5sums",
		"/var/lib/dpkg/status.d/coreutils", "/var/lib/dpkg/status.d/coreutils.md5sums",
		"/var/lib/dpkg/status.d/libc6", "/var/lib/dpkg/status.d/libc6.md5sums", "/write"}
	if got := img.paths(); !slices.Equal(got, want) {
		t.Errorf("image files\n got %q\nwant %q", got, want)
	}
	for link, target := range map[string]string{"/lib": "usr/lib", "/lib64": "usr/lib64"} {
		if h := img.files[link]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s should be a symlink to %s: %+v", link, target, h)
		}
	}
	for p, h := range img.files {
		// Everything is root's, except where the runtime user writes.
		wantID := 0
		if p == "/write" || p == "/run" {
			wantID = 10
		}
		if h.Uid != wantID || h.Gid != wantID {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, h.Uid, h.Gid, wantID, wantID)
		}
		if h.ModTime.Unix() != 0 {
			t.Errorf("%s mtime %v, want the epoch (0)", p, h.ModTime)
		}
	}
	if m := img.files["/usr/bin/cat"].Mode & 0o7777; m != 0o755 {
		t.Errorf("/usr/bin/cat mode %o, want 755", m)
	}
	if m := img.files["/read/data"].Mode & 0o7777; m != 0o644 {
		t.Errorf("/read/data mode %o, want 644", m)
	}
	c := img.config
	if c.OS != "linux" || c.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", c.OS, c.Architecture)
	}
	if !slices.Equal(c.Config.Cmd, []string{"/usr/bin/cat", "/read/data"}) {
		t.Errorf("Cmd = %q", c.Config.Cmd)
	}
	if c.Config.User != "10:10" {
		t.Errorf("User = %q, want smith's default 10:10", c.Config.User)
	}
	if v := c.Config.Labels["org.smithbuild.smith.version"]; v == "" {
		t.Errorf("no smith version label: %v", c.Config.Labels)
	}
	if d := c.Config.Labels["org.smithbuild.smith.definition"]; !strings.Contains(d, `"paths":["/usr/bin/cat"]`) {
		t.Errorf("definition label = %q", d)
	}
	// The source's dpkg database says which package each file comes from,
	// through the /lib -> usr/lib link dpkg does not know about.
	m := packageManifest(t, img)
	if !strings.HasPrefix(ownerOf(m, "/usr/bin/cat"), "coreutils_") ||
		!strings.HasPrefix(ownerOf(m, "/usr/lib/x86_64-linux-gnu/libc.so.6"), "libc6_") {
		t.Errorf("package manifest: %v", m)
	}
	if d, _ := m["distro"].(map[string]any); d["id"] != "debian" || d["versionID"] != "12" {
		t.Errorf("distro = %v", m["distro"])
	}
	// Exact in both directions: the packages that own a shipped file, no
	// other (apt and libc6 list /lib and /lib64 as directories: they own
	// no link there; base-files ships the /lib link), and as unowned only
	// the generated files, rootfs/ and the /lib64 link no package ships.
	var ids []string
	for _, p := range m["packages"].([]any) {
		ids = append(ids, p.(map[string]any)["name"].(string))
	}
	if strings.Join(ids, " ") != "base-files coreutils libc6" {
		t.Errorf("contributing packages %q, want base-files coreutils libc6", ids)
	}
	if unowned, _ := json.Marshal(m["unowned"]); string(unowned) != `["/etc/group","/etc/passwd","/lib64","/read/data",`+
		`"/var/lib/dpkg/status.d/base-files","/var/lib/dpkg/status.d/base-files.md5sums","/var/lib/dpkg/status.d/coreutils",`+
		`"/var/lib/dpkg/status.d/coreutils.md5sums","/var/lib/dpkg/status.d/libc6","/var/lib/dpkg/status.d/libc6.md5sums"]` {
		t.Errorf("unowned = %s", unowned)
	}
	// Env is inherited from the source image, which sets PATH.
	if !slices.ContainsFunc(c.Config.Env, func(s string) bool { return strings.HasPrefix(s, "PATH=") }) {
		t.Errorf("Env %q lacks the source image's PATH", c.Config.Env)
	}
}

// TestLs needs a library of a library, shipped 0644 on Debian
// (ls → libselinux → libpcre2-8), which the original smith missed.
func TestLs(t *testing.T) {
	requireE2E(t)
	p := newProject(t, `type: oci
package: $BASE
paths: [/usr/bin/ls]
entrypoint: [/usr/bin/ls]
cmd: [/]
`, nil)
	img, _ := p.build(t)
	if !img.has("/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0") {
		t.Errorf("libpcre2-8 (needed by libselinux) is missing: %v", img.paths())
	}
	stdout, stderr, err := img.run(t)
	if err != nil {
		t.Fatalf("running ls: %v\nstderr: %s", err, stderr)
	}
	got := strings.Fields(stdout)
	for _, want := range []string{"dev", "proc", "read", "run", "sys", "usr", "write"} {
		if !slices.Contains(got, want) {
			t.Errorf("ls / printed %q, missing %q", got, want)
		}
	}
}

// TestNginx shrinks the Debian image to nginx and serves a page from it.
func TestNginx(t *testing.T) {
	requireE2E(t)
	port := freePort(t)
	conf := `daemon off;
user root root;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr notice;
events { worker_connections 16; }
http {
  access_log off;
  client_body_temp_path /run/body;
  proxy_temp_path /run/proxy;
  fastcgi_temp_path /run/fastcgi;
  uwsgi_temp_path /run/uwsgi;
  scgi_temp_path /run/scgi;
  server {
    listen 127.0.0.1:` + port + `;
    root /read/www;
  }
}
`
	p := newProject(t, `type: oci
package: $BASE
paths:
- /usr/sbin/nginx
root: true
cmd: [/usr/sbin/nginx, -e, stderr, -c, /read/nginx.conf]
`, map[string]string{
		"read/nginx.conf":     conf,
		"read/www/index.html": "served by a microcontainer\n",
		"etc/passwd":          "root:x:0:0:root:/write:/nonexistent\n",
		"etc/group":           "root:x:0:\n",
	})
	img, _ := p.build(t)
	if img.config.Config.User != "0:0" {
		t.Errorf("root: true gave User %q", img.config.Config.User)
	}
	bundle := img.bundle(t, func(spec map[string]any) {
		// Share the host's network so the test can reach 127.0.0.1:port, and
		// give nginx a writable /run as a runtime would.
		linux := spec["linux"].(map[string]any)
		var ns []any
		for _, n := range linux["namespaces"].([]any) {
			if n.(map[string]any)["type"] != "network" {
				ns = append(ns, n)
			}
		}
		linux["namespaces"] = ns
		spec["mounts"] = append(spec["mounts"].([]any), map[string]any{
			"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": []any{"nosuid", "nodev", "mode=755"},
		})
	})
	id := "smith-e2e-nginx-" + port
	cmd := exec.Command("runc", "run", "--bundle", bundle, id)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	must(t, cmd.Start())
	defer func() {
		_ = exec.Command("runc", "kill", id, "KILL").Run()
		_ = cmd.Wait()
		_ = exec.Command("runc", "delete", "-f", id).Run()
	}()

	var body string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://127.0.0.1:" + port + "/index.html")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if body != "served by a microcontainer\n" {
		t.Fatalf("GET / returned %q; nginx output:\n%s", body, logs.String())
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func dropSyntax(yaml string) string {
	if strings.HasPrefix(yaml, "# syntax=") {
		_, rest, _ := strings.Cut(yaml, "\n")
		return rest
	}
	return yaml
}

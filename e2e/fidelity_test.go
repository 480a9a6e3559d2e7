package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What smith infers beyond DT_NEEDED, checked by running the images: each
// smith.yaml here is minimal, with no nss: and no hand-listed library.

const bullseye = "$REGISTRY/test/debian:bullseye"

func fidelityProject(t *testing.T, yaml string, rootfs map[string]string) *project {
	t.Helper()
	return newProject(t, strings.ReplaceAll(yaml, "$REGISTRY", testEnv.registry), rootfs)
}

// hostsSpec makes the container share the host's network and gives it an
// /etc/hosts, as Docker and Kubernetes mount one into every container.
func hostsSpec(t *testing.T) func(map[string]any) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	must(t, os.WriteFile(hosts, []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"), 0o644))
	return func(spec map[string]any) {
		linux := spec["linux"].(map[string]any)
		var ns []any
		for _, n := range linux["namespaces"].([]any) {
			if n.(map[string]any)["type"] != "network" {
				ns = append(ns, n)
			}
		}
		linux["namespaces"] = ns
		spec["mounts"] = append(spec["mounts"].([]any), map[string]any{
			"destination": "/etc/hosts", "type": "bind", "source": hosts, "options": []any{"rbind", "ro"},
		})
	}
}

func (img *image) runWith(t *testing.T, edit func(map[string]any), args ...string) (string, string, error) {
	t.Helper()
	bundle := img.bundle(t, func(spec map[string]any) {
		spec["process"].(map[string]any)["args"] = args
		edit(spec)
	})
	return runBundle(t, bundle, nil)
}

// TestRuntimeUserResolves: with no user, groups or nss, the default user
// still has a passwd and group entry the libc reads; a numeric user too.
func TestRuntimeUserResolves(t *testing.T) {
	requireE2E(t)
	img, _ := newProject(t, "package: $BASE\npaths: [/usr/bin/id]\n", nil).build(t)
	stdout, stderr, err := img.run(t, "/usr/bin/id")
	if want := "uid=10(smith) gid=10(smith) groups=10(smith)\n"; err != nil || stdout != want {
		t.Errorf("id: %v, %q (want %q), %q", err, stdout, want, stderr)
	}
	img, _ = newProject(t, "package: $BASE\npaths: [/usr/bin/id]\nuser: \"1234\"\n", nil).build(t)
	stdout, stderr, err = img.run(t, "/usr/bin/id", "-un")
	if err != nil || stdout != "smith\n" {
		t.Errorf("id -un as 1234: %v, %q, %q", err, stdout, stderr)
	}
	// paths that bring their own passwd keep it.
	img, _ = newProject(t, "package: $BASE\npaths: [/usr/bin/id, /etc/passwd]\n", nil).build(t)
	if !strings.Contains(string(img.data["/etc/passwd"]), "_apt:") {
		t.Errorf("the source's /etc/passwd was replaced:\n%s", img.data["/etc/passwd"])
	}
}

// TestNSSOldGlibc: glibc 2.31 loads files and dns as modules; smith infers
// them from getent's imports, and lookups work once the runtime mounts
// /etc/hosts.
func TestNSSOldGlibc(t *testing.T) {
	requireE2E(t)
	// --no-cache: the reasons are in the trace step's log, which a cache
	// hit does not show.
	img, out := fidelityProject(t, "package: "+bullseye+"\npaths: [/usr/bin/getent]\n", nil).build(t, "--no-cache")
	for _, want := range []string{"/etc/nsswitch.conf", "/usr/lib/x86_64-linux-gnu/libnss_files.so.2", "/usr/lib/x86_64-linux-gnu/libnss_dns.so.2"} {
		if !img.has(want) {
			t.Errorf("image lacks %s", want)
		}
	}
	if !strings.Contains(out, "NSS module for getaddrinfo, used by /usr/bin/getent") {
		t.Errorf("the build log gives no reason for the NSS modules:\n%s", out)
	}
	stdout, stderr, err := img.run(t, "/usr/bin/getent", "passwd", "smith")
	if err != nil || stdout != "smith:x:10:10:smith:/write:/sbin/nologin\n" {
		t.Errorf("getent passwd smith: %v, %q, %q", err, stdout, stderr)
	}
	stdout, stderr, err = img.runWith(t, hostsSpec(t), "/usr/bin/getent", "hosts", "localhost")
	if err != nil || !strings.HasPrefix(stdout, "127.0.0.1") && !strings.HasPrefix(stdout, "::1") {
		t.Errorf("getent hosts localhost: %v, %q, %q", err, stdout, stderr)
	}

	// nss: false forbids it, and the build log says what wanted it.
	img, out = fidelityProject(t, "package: "+bullseye+"\npaths: [/usr/bin/getent]\nnss: false\n", nil).build(t, "--no-cache")
	if img.has("/etc/nsswitch.conf") || img.has("/usr/lib/x86_64-linux-gnu/libnss_files.so.2") {
		t.Error("nss: false still shipped NSS")
	}
	if !strings.Contains(out, "warning: nss: false, but /usr/bin/getent calls") {
		t.Errorf("no warning for nss: false:\n%s", out)
	}
	if _, _, err := img.run(t, "/usr/bin/getent", "passwd", "smith"); err == nil {
		t.Error("getent passwd worked without libnss_files on glibc 2.31: the test proves nothing")
	}
}

// TestIconv: iconv_open brings the gconv configuration and the default
// charsets' modules, on glibc 2.31 and 2.36.
func TestIconv(t *testing.T) {
	requireE2E(t)
	for _, base := range []string{"$BASE", bullseye} {
		img, _ := fidelityProject(t, "package: "+base+"\npaths: [/usr/bin/iconv]\n", map[string]string{"read/text": "caf\u00e9\n"}).build(t)
		gconv := "/usr/lib/x86_64-linux-gnu/gconv/"
		if !img.has(gconv+"gconv-modules") || !img.has(gconv+"ISO8859-1.so") || !img.has(gconv+"UTF-16.so") || img.has(gconv+"EUC-JP.so") {
			t.Errorf("%s: want the gconv configuration and the default charsets only, got %q", base, img.paths())
		}
		stdout, stderr, err := img.run(t, "/usr/bin/iconv", "-f", "UTF-8", "-t", "ISO-8859-1", "/read/text")
		if err != nil || stdout != "caf\xe9\n" {
			t.Errorf("%s: iconv to ISO-8859-1: %v, %q, %q", base, err, stdout, stderr)
		}
		stdout, stderr, err = img.run(t, "/usr/bin/iconv", "-f", "UTF-8", "-t", "UTF-16LE", "/read/text")
		if err != nil || stdout != "c\x00a\x00f\x00\xe9\x00\n\x00" {
			t.Errorf("%s: iconv to UTF-16LE: %v, %q, %q", base, err, stdout, stderr)
		}
		if _, _, err := img.run(t, "/usr/bin/iconv", "-f", "UTF-8", "-t", "EUC-JP", "/read/text"); err == nil {
			t.Errorf("%s: EUC-JP is not a default charset, yet iconv converted to it", base)
		}
	}
}

// TestProbe: a probe that fails names the file to add; one that passes
// still reports what its command looked for.
func TestProbe(t *testing.T) {
	requireE2E(t)
	p := newProject(t, `package: $BASE
paths: [/usr/bin/iconv]
charsets: [UTF-16]
probe:
- [/usr/bin/iconv, -f, UTF-8, -t, UTF-16, /read/text]
- run: [/usr/bin/iconv, -f, UTF-8, -t, ISO-8859-1, /read/text]
  output: caf
`, map[string]string{"read/text": "caf\u00e9\n"})
	_, out, err := p.tryBuild(t, "--no-cache")
	if err == nil {
		t.Fatalf("a failing probe built:\n%s", out)
	}
	for _, want := range []string{
		"smith.yaml:7:3: probe[1]: `/usr/bin/iconv -f UTF-8 -t ISO-8859-1 /read/text` exited 1, want 0",
		"add to paths: /usr/lib/x86_64-linux-gnu/gconv/ISO8859-1.so — opened by /usr/bin/iconv",
		"smith.yaml:6:3: probe[0]: `/usr/bin/iconv -f UTF-8 -t UTF-16 /read/text` passed",
		">>> - run: [/usr/bin/iconv",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	// The probe runs as the runtime user on a read-only root, without network.
	p = newProject(t, `package: $BASE
paths: [/usr/bin/id, /usr/bin/touch]
probe:
- run: [/usr/bin/id, -un]
  output: smith
- run: [/usr/bin/touch, /usr/x]
  exit: 1
`, nil)
	img, out := p.build(t, "--no-cache")
	if img.has("/.smith-probe") {
		t.Error("the probe's mounts leaked into the image")
	}
	if !strings.Contains(out, "probe[1]: `/usr/bin/touch /usr/x` passed") {
		t.Errorf("probes did not run:\n%s", out)
	}
	// A builder without emulation probes what it can run (linux/386 on
	// linux/amd64) and says which image it could not probe.
	if w, _ := buildctl(t, "debug", "workers"); strings.Contains(w, "linux/arm64") {
		t.Log("the builder emulates linux/arm64: the unprobed-platform check needs one that does not")
		return
	}
	p = newProject(t, "package: $BASE\npaths: [/usr/bin/cat]\nprobe: [[/usr/bin/cat, /read/data]]\n", map[string]string{"read/data": "probed\n"})
	out, err = buildctl(t, "build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source="+testEnv.frontend,
		"--local", "context="+p.dir, "--local", "dockerfile="+p.dir, "--opt", "filename=smith.yaml", "--no-cache",
		"--opt", "platform=linux/amd64,linux/386,linux/arm64", "--output", "type=oci,dest="+filepath.Join(t.TempDir(), "image.tar"))
	if err != nil {
		t.Fatalf("a multi-platform build with a probe: %v\n%s", err, out)
	}
	if n := strings.Count(out, "probe[0]: `/usr/bin/cat /read/data` passed"); n != 2 ||
		!strings.Contains(out, "probe: not run for linux/arm64: the builder cannot run that platform (it runs linux/amd64") {
		t.Errorf("want two probed images and a warning for linux/arm64, got %d:\n%s", n, out)
	}
}

// TestShebang: scripts bring their interpreters, #!/usr/bin/env through PATH.
func TestShebang(t *testing.T) {
	requireE2E(t)
	p := newProject(t, "package: $BASE\nentrypoint: [/app/run.sh]\n", map[string]string{
		"app/run.sh": "#!/bin/sh\nexec /app/env.sh \"$@\"\n",
		"app/env.sh": "#!/usr/bin/env bash\necho \"bash $BASH_VERSION says ${1:-hi}\"\n",
	})
	must(t, os.Chmod(filepath.Join(p.dir, "rootfs/app/run.sh"), 0o755))
	must(t, os.Chmod(filepath.Join(p.dir, "rootfs/app/env.sh"), 0o755))
	img, _ := p.build(t)
	for _, want := range []string{"/usr/bin/dash", "/usr/bin/env", "/usr/bin/bash", "/usr/lib/x86_64-linux-gnu/libtinfo.so.6"} {
		if !img.has(want) {
			t.Errorf("image lacks %s", want)
		}
	}
	stdout, stderr, err := img.run(t, "/app/run.sh", "hello")
	if err != nil || !strings.HasPrefix(stdout, "bash 5") || !strings.HasSuffix(stdout, " says hello\n") {
		t.Errorf("run.sh: %v, %q, %q", err, stdout, stderr)
	}
}

// TestTLS: curl verifies a local TLS server whose CA is in the source
// image's trust store, because smith ships the CA bundle with libssl.
func TestTLS(t *testing.T) {
	requireE2E(t)
	pki := newTestPKI(t)
	caPEM, serverCert := pki.caPEM, pki.server
	// The source: bullseye with the test CA added to its trust store.
	ref := pushImage(t, "test/tls", "FROM "+testEnv.registry+"/test/debian:bullseye\n"+trustCA,
		map[string][]byte{"smith-test-ca.crt": caPEM})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello over TLS\n") }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}},
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	url := fmt.Sprintf("https://localhost:%d/", ln.Addr().(*net.TCPAddr).Port)

	img, out := newProject(t, "package: "+ref+"\npaths: [/usr/bin/curl]\n", nil).build(t, "--no-cache")
	if !img.has("/etc/ssl/certs/ca-certificates.crt") || !bytes.Contains(img.data["/etc/ssl/certs/ca-certificates.crt"], bytes.TrimSpace(caPEM)) {
		t.Errorf("the image's CA bundle lacks the test CA")
	}
	if !strings.Contains(out, "CA bundle for TLS, read by") {
		t.Errorf("no reason for the CA bundle in the build log:\n%s", out)
	}
	stdout, stderr, err := img.runWith(t, hostsSpec(t), "/usr/bin/curl", "-sS", url)
	if err != nil || stdout != "hello over TLS\n" {
		t.Errorf("curl %s: %v, %q, %q", url, err, stdout, stderr)
	}

	img, _ = newProject(t, "package: "+ref+"\npaths: [/usr/bin/curl]\ncacerts: false\n", nil).build(t)
	if img.has("/etc/ssl/certs/ca-certificates.crt") {
		t.Error("cacerts: false still shipped the bundle")
	}
	if _, stderr, err := img.runWith(t, hostsSpec(t), "/usr/bin/curl", "-sS", url); err == nil || !strings.Contains(stderr, "certificate") {
		t.Errorf("curl without a CA bundle: %v, %q", err, stderr)
	}
}

// trustCA is the Dockerfile step that adds smith-test-ca.crt, beside the
// Dockerfile, to a Debian image's trust store.
const trustCA = "COPY smith-test-ca.crt /usr/local/share/ca-certificates/\nRUN update-ca-certificates\n"

// testPKI is a throwaway CA with a server certificate for localhost and
// 127.0.0.1, and a client certificate; the CA and the client's certificate
// and key come as PEM.
type testPKI struct {
	caPEM                 []byte
	pool                  *x509.CertPool
	server                tls.Certificate
	clientCert, clientKey []byte
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smith test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	must(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	must(t, err)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(t, err)
		c := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		if usage == x509.ExtKeyUsageServerAuth {
			c.DNSNames, c.IPAddresses = []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, c, caCert, &key.PublicKey, caKey)
		must(t, err)
		return der, key
	}
	serverDER, serverKey := leaf(2, "localhost", x509.ExtKeyUsageServerAuth)
	clientDER, clientKey := leaf(3, "smith client", x509.ExtKeyUsageClientAuth)
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return testPKI{
		caPEM:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:       pool,
		server:     tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey},
		clientCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: clientDER}),
		clientKey:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/protocol"
)

// tarOf writes name/body pairs (a name ending in / is a directory) as a tar.
func tarOf(t *testing.T, kv ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(kv); i += 2 {
		h := &tar.Header{Name: kv[i], Mode: 0o644, Size: int64(len(kv[i+1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(kv[i], "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(kv[i+1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ociArchive writes a gzip'd OCI layout holding one image with the given
// layers (uncompressed).
func ociArchive(t *testing.T, path string, layers ...[]byte) []byte {
	t.Helper()
	var files []string
	blob := func(mt string, b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		files = append(files, "blobs/sha256/"+d.Encoded(), string(b))
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Env: []string{"A=1"}}, RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	m.SchemaVersion = 2
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(l))
		m.Layers = append(m.Layers, blob(ocispec.MediaTypeImageLayer, l))
	}
	cb, _ := json.Marshal(cfg)
	m.Config = blob(ocispec.MediaTypeImageConfig, cb)
	mb, _ := json.Marshal(m)
	md := blob(ocispec.MediaTypeImageManifest, mb)
	md.Annotations = map[string]string{ocispec.AnnotationRefName: "v1"}
	idx := ocispec.Index{Manifests: []ocispec.Descriptor{md}}
	idx.SchemaVersion = 2
	ib, _ := json.Marshal(idx)
	files = append(files, "oci-layout", `{"imageLayoutVersion":"1.0.0"}`, "index.json", string(ib))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(tarOf(t, files...))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return cb
}

func TestUnpack(t *testing.T) {
	tmp := t.TempDir()
	archive := filepath.Join(tmp, "image.tgz")
	cfg := ociArchive(t, archive,
		tarOf(t, "etc/", "", "etc/a", "a", "etc/b", "b"),
		tarOf(t, "etc/.wh.a", "", "etc/c", "c"),
		tarOf(t, "../../etc/passwd", "x"))
	var stderr bytes.Buffer
	out := filepath.Join(tmp, "meta")
	if err := runUnpack([]string{"--archive", archive, "--tag", "v1", "--platform", "linux/amd64", "--inspect", "--out", out, "--tmp", tmp}, nil, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "image.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Inside the build context, an archive that is a link out of it is
	// never opened.
	ctx := t.TempDir()
	if err := os.Symlink(archive, filepath.Join(ctx, "img.tgz")); err != nil {
		t.Fatal(err)
	}
	err = runUnpack([]string{"--context", ctx, "--archive", "img.tgz", "--inspect", "--out", t.TempDir()}, nil, &stderr)
	if err == nil || !strings.Contains(err.Error(), "must be a file of the build context") {
		t.Errorf("a link out of the context: %v", err)
	}
	got, err := protocol.DecodeImage(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Layers != 3 || !bytes.Equal(got.Config, cfg) {
		t.Errorf("image.json: %s", b)
	}

	rootfs := filepath.Join(tmp, "rootfs")
	for k := range 2 {
		if err := runUnpack([]string{"--archive", archive, "--layer", string(rune('0' + k)), "--out", rootfs}, nil, &stderr); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]bool{"etc/a": false, "etc/b": true, "etc/c": true} {
		if _, err := os.Stat(filepath.Join(rootfs, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
	err = runUnpack([]string{"--archive", archive, "--layer", "2", "--out", rootfs}, nil, &stderr)
	if err == nil || err.Error() != `image.tgz: layer 2: entry "../../etc/passwd" escapes the root` {
		t.Errorf("escape: %v", err)
	}

	for _, args := range [][]string{
		{"--archive", archive, "--out", out},                              // neither mode
		{"--archive", archive, "--out", out, "--inspect", "--layer", "0"}, // both
		{"--archive", archive, "--inspect"},                               // no --out
		{"--archive", archive, "--out", out, "--inspect", "--platform", "linux/"},
		{"--archive", archive, "--out", out, "--inspect", "--tag", "v2"},
		{"--archive", archive, "--out", out, "--layer", "3"},
	} {
		if err := runUnpack(args, nil, &stderr); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

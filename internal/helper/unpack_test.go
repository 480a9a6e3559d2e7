package helper

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

	"github.com/smithbuild/smith/internal/pkgdb"
	"github.com/smithbuild/smith/internal/protocol"
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
// layers (uncompressed), and returns the image's config.
func ociArchive(t *testing.T, path string, layers ...[]byte) []byte {
	t.Helper()
	files, cfg := ociLayout(nil, layers...)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(tarOf(t, files...))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// ociLayout returns the name/content pairs of an OCI layout holding one
// image with the given layers and, when statement is not nil, an
// attestation manifest for it as BuildKit attaches one, holding statement
// as a layer of pkgdb.PredicateType.
func ociLayout(statement []byte, layers ...[]byte) (files []string, config []byte) {
	blob := func(mt string, b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		files = append(files, "blobs/sha256/"+d.Encoded(), string(b))
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	}
	manifestOf := func(cfg []byte, layers []ocispec.Descriptor) ocispec.Descriptor {
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: blob(ocispec.MediaTypeImageConfig, cfg), Layers: layers}
		m.SchemaVersion = 2
		mb, _ := json.Marshal(m)
		return blob(ocispec.MediaTypeImageManifest, mb)
	}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Env: []string{"A=1"}}, RootFS: ocispec.RootFS{Type: "layers"}}
	var descs []ocispec.Descriptor
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(l))
		descs = append(descs, blob(ocispec.MediaTypeImageLayer, l))
	}
	config, _ = json.Marshal(cfg)
	md := manifestOf(config, descs)
	md.Annotations = map[string]string{ocispec.AnnotationRefName: "v1"}
	md.Platform = &cfg.Platform
	idx := ocispec.Index{Manifests: []ocispec.Descriptor{md}}
	if statement != nil {
		st := blob("application/vnd.in-toto+json", statement)
		st.Annotations = map[string]string{"in-toto.io/predicate-type": pkgdb.PredicateType}
		ad := manifestOf([]byte(`{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers"}}`), []ocispec.Descriptor{st})
		ad.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
		ad.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": md.Digest.String()}
		idx.Manifests = append(idx.Manifests, ad)
	}
	idx.SchemaVersion = 2
	ib, _ := json.Marshal(idx)
	return append(files, "oci-layout", `{"imageLayoutVersion":"1.0.0"}`, "index.json", string(ib)), config
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
	req := protocol.Unpack{Archive: archive, Tag: "v1", Platform: "linux/amd64", Inspect: true, Out: out, TempDir: tmp}
	if err := Unpack(req, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, protocol.ImageFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := protocol.DecodeImage(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Layers != 3 || !bytes.Equal(got.Config, cfg) {
		t.Errorf("image.json: %s", b)
	}
	if stderr.Len() != 0 {
		t.Errorf("warnings for an image of the platform asked: %s", &stderr)
	}
	req.Platform = "linux/arm64"
	if err := Unpack(req, &stderr); err != nil || stderr.String() != "warning: image.tgz: the image is for linux/amd64, not linux/arm64\n" {
		t.Errorf("another platform: %v, %q", err, &stderr)
	}

	// Inside the build context, an archive that is a link out of it is
	// never opened.
	ctx := t.TempDir()
	if err := os.Symlink(archive, filepath.Join(ctx, "img.tgz")); err != nil {
		t.Fatal(err)
	}
	err = Unpack(protocol.Unpack{Context: ctx, Archive: "img.tgz", Inspect: true, Out: t.TempDir()}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "must be a file of the build context") {
		t.Errorf("a link out of the context: %v", err)
	}

	rootfs := filepath.Join(tmp, "rootfs")
	for k := range 2 {
		if err := Unpack(protocol.Unpack{Archive: archive, Layer: k, Out: rootfs}, &stderr); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]bool{"etc/a": false, "etc/b": true, "etc/c": true} {
		if _, err := os.Stat(filepath.Join(rootfs, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
	err = Unpack(protocol.Unpack{Archive: archive, Name: "./image.tgz", Layer: 2, Out: rootfs}, &stderr)
	if err == nil || err.Error() != `./image.tgz: layer 2: entry "../../etc/passwd" escapes the root` {
		t.Errorf("escape: %v", err)
	}

	for _, req := range []protocol.Unpack{
		{Archive: archive, Out: out, Inspect: true, Platform: "linux/"},
		{Archive: archive, Out: out, Inspect: true, Tag: "v2"},
		{Archive: archive, Out: out, Layer: 3},
		{Archive: archive, Out: out, Inspect: true, MaxBytes: 10},
		{Archive: filepath.Join(tmp, "nope.tar"), Out: out, Inspect: true},
	} {
		if err := Unpack(req, &stderr); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
}

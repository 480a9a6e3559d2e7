package imagearchive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ent is one tar entry of a test archive.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	uid, gid         int
	mtime            time.Time
}

func file(name, body string) ent { return ent{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeSymlink}
}
func hardlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeLink}
}

var testTime = time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)

// makeTar writes entries as a tar.
func makeTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode,
			Uid: e.uid, Gid: e.gid, ModTime: e.mtime, Format: tar.FormatPAX}
		if h.ModTime.IsZero() {
			h.ModTime = testTime
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if e.typ == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// layout builds an OCI image layout.
type layout struct {
	t     testing.TB
	blobs map[digest.Digest][]byte
	index ocispec.Index
}

func newLayout(t testing.TB) *layout {
	return &layout{t: t, blobs: map[digest.Digest][]byte{}, index: ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}}
}

func (l *layout) blob(mediaType string, b []byte) ocispec.Descriptor {
	d := digest.FromBytes(b)
	l.blobs[d] = b
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

func (l *layout) json(mediaType string, v any) ocispec.Descriptor {
	b, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mediaType, b)
}

// testLayer is a layer: its uncompressed tar and how to compress it.
type testLayer struct {
	tar  []byte
	comp string // "", "gzip", "zstd"
}

func configJSON(arch, variant string, cmd string, diffIDs []digest.Digest) []byte {
	cfg := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: arch, Variant: variant},
		Config:   ocispec.ImageConfig{Cmd: []string{cmd}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	}
	b, _ := json.Marshal(cfg)
	return b
}

// image adds a manifest, its config and layers; it returns the manifest
// descriptor with platform set.
func (l *layout) image(arch, variant, cmd string, layers ...testLayer) ocispec.Descriptor {
	var diffIDs []digest.Digest
	var descs []ocispec.Descriptor
	for _, ly := range layers {
		diffIDs = append(diffIDs, digest.FromBytes(ly.tar))
		switch ly.comp {
		case "gzip":
			descs = append(descs, l.blob(ocispec.MediaTypeImageLayerGzip, gz(l.t, ly.tar)))
		case "zstd":
			descs = append(descs, l.blob(ocispec.MediaTypeImageLayerZstd, zst(l.t, ly.tar)))
		default:
			descs = append(descs, l.blob(ocispec.MediaTypeImageLayer, ly.tar))
		}
	}
	cfg := l.blob(ocispec.MediaTypeImageConfig, configJSON(arch, variant, cmd, diffIDs))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: descs}
	m.SchemaVersion = 2
	d := l.json(ocispec.MediaTypeImageManifest, m)
	d.Platform = &ocispec.Platform{OS: "linux", Architecture: arch, Variant: variant}
	return d
}

// add lists d in index.json under ref (none if empty).
func (l *layout) add(d ocispec.Descriptor, ref string) {
	if ref != "" {
		d.Annotations = map[string]string{ocispec.AnnotationRefName: ref}
	}
	l.index.Manifests = append(l.index.Manifests, d)
}

// tar writes the layout as a tar, with blobs first as skopeo does.
func (l *layout) tar() []byte {
	l.index.SchemaVersion = 2
	idx, _ := json.Marshal(l.index)
	var ents []ent
	var ds []string
	for d := range l.blobs {
		ds = append(ds, string(d))
	}
	sort.Strings(ds)
	ents = append(ents, dir("blobs/"), dir("blobs/sha256/"))
	for _, d := range ds {
		ents = append(ents, file("blobs/sha256/"+digest.Digest(d).Encoded(), string(l.blobs[digest.Digest(d)])))
	}
	ents = append(ents, file("oci-layout", `{"imageLayoutVersion":"1.0.0"}`), file("index.json", string(idx)))
	return makeTar(l.t, ents...)
}

// openBytes opens an archive held in memory.
func openBytes(t *testing.T, b []byte, name string) *Archive {
	t.Helper()
	a, err := Open(bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// newRoot makes an empty root inside a sandbox folder, so tests can check
// that nothing was written next to it.
func newRoot(t *testing.T) (*os.Root, string) {
	t.Helper()
	sandbox := t.TempDir()
	dir := filepath.Join(sandbox, "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		names, _ := filepath.Glob(filepath.Join(sandbox, "*"))
		if len(names) != 1 {
			t.Errorf("something was written outside the root: %v", names)
		}
	})
	return r, dir
}

func applyAll(t *testing.T, img *Image, root *os.Root) string {
	t.Helper()
	var log bytes.Buffer
	for k := range img.Layers {
		if err := img.ApplyLayer(k, root, &log); err != nil {
			t.Fatalf("layer %d: %v", k, err)
		}
	}
	return log.String()
}

// listTree describes every entry below dir, one line each.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			tg, _ := os.Readlink(p)
			out = append(out, fmt.Sprintf("%s -> %s", rel, tg))
		case fi.IsDir():
			out = append(out, rel+"/")
		default:
			b, _ := os.ReadFile(p)
			out = append(out, fmt.Sprintf("%s %q", rel, b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

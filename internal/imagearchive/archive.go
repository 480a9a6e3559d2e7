package imagearchive

import (
	"archive/tar"
	"bytes"
	_ "crypto/sha256" // digest algorithms for go-digest
	_ "crypto/sha512"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxJSON bounds the size of index, manifest and config blobs read into
// memory.
const maxJSON = 64 << 20

// maxLinks bounds symlink and hard link hops, in the archive and in a root.
const maxLinks = 255

// Format is the layout of an archive.
type Format string

const (
	// OCI is an OCI image layout (index.json, blobs/).
	OCI Format = "oci"
	// Docker is a `docker save` archive (manifest.json).
	Docker Format = "docker"
)

// Options tune OpenWith. The zero value works.
type Options struct {
	// TempDir holds the decompressed copy of a compressed archive;
	// empty means os.TempDir().
	TempDir string
	// MaxBytes bounds what decompression may produce: the archive itself
	// and each layer, uncompressed (a gzip bomb stops there); 0 means
	// DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxBytes is Options.MaxBytes when unset: 16 GiB.
const DefaultMaxBytes = 16 << 30

// MaxNameBytes bounds an entry name in a layer, as Linux does a path
// (PATH_MAX) and NAME_MAX each component.
const (
	MaxNameBytes      = 4096
	MaxComponentBytes = 255
)

// Archive is an opened image archive.
type Archive struct {
	name     string
	maxBytes int64
	r        io.ReaderAt
	members  map[string]member
	format   Format
	tmp      *os.File
}

// member is one tar entry of the outer archive.
type member struct {
	offset, size int64
	link         string // for symlinks (relative to the member's dir) and hard links (archive path)
	typ          byte
}

// Open indexes the image archive in r (size bytes). name, usually the file
// name, prefixes error messages. Close the archive when done.
func Open(r io.ReaderAt, size int64, name string) (*Archive, error) {
	return OpenWith(r, size, name, Options{})
}

// OpenWith is Open with options.
func OpenWith(r io.ReaderAt, size int64, name string, opt Options) (*Archive, error) {
	a := &Archive{name: name, r: r, members: map[string]member{}, maxBytes: opt.MaxBytes}
	if a.maxBytes <= 0 {
		a.maxBytes = DefaultMaxBytes
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var magic [6]byte // xz's signature is six bytes
	n, _ := r.ReadAt(magic[:], 0)
	if comp := compression(magic[:n]); comp != "" {
		dec, err := decompressor(comp, io.NewSectionReader(r, 0, size))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		tmp, err := os.CreateTemp(opt.TempDir, "smith-archive-*.tar")
		if err != nil {
			dec.Close()
			return nil, fmt.Errorf("%s: decompressing: %w", name, err)
		}
		os.Remove(tmp.Name()) // unlinked: gone when closed
		a.tmp = tmp
		size, err = io.Copy(tmp, io.LimitReader(dec, a.maxBytes+1))
		dec.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: decompressing: %w", name, err)
		}
		if size > a.maxBytes {
			return nil, fmt.Errorf("%s: decompresses to more than %d bytes, the limit (raise it with --build-arg SMITH_MAX_ARCHIVE_BYTES=N)", name, a.maxBytes)
		}
		a.r = tmp
	}
	if err := a.index(size); err != nil {
		return nil, err
	}
	switch {
	case a.has("index.json"):
		a.format = OCI
	case a.has("manifest.json"):
		a.format = Docker
	default:
		return nil, fmt.Errorf("%s: neither an OCI image layout (no index.json) nor a docker save archive (no manifest.json)", name)
	}
	ok = true
	return a, nil
}

// Close releases the temporary file of a compressed archive.
func (a *Archive) Close() error {
	if a.tmp != nil {
		err := a.tmp.Close()
		a.tmp = nil
		return err
	}
	return nil
}

// Name is the name given to Open.
func (a *Archive) Name() string { return a.name }

// Format tells whether the archive is an OCI layout or a docker save
// archive.
func (a *Archive) Format() Format { return a.format }

// index records every member in one pass over the tar.
func (a *Archive) index(size int64) error {
	sr := io.NewSectionReader(a.r, 0, size)
	tr := tar.NewReader(sr)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			if i == 0 {
				return fmt.Errorf("%s: empty archive", a.name)
			}
			return nil
		}
		if err != nil {
			if i == 0 {
				return fmt.Errorf("%s: not a tar archive: %w", a.name, err)
			}
			return fmt.Errorf("%s: reading the archive: %w", a.name, err)
		}
		// tar.Reader reads headers exactly and skips data by seeking,
		// so the current position is where this member's data starts.
		off, err := sr.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		name := cleanMember(h.Name)
		if name == "" {
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg:
			a.members[name] = member{offset: off, size: h.Size, typ: h.Typeflag}
		case tar.TypeSymlink:
			a.members[name] = member{link: h.Linkname, typ: h.Typeflag}
		case tar.TypeLink:
			a.members[name] = member{link: cleanMember(h.Linkname), typ: h.Typeflag}
		default: // directories; sparse files cannot be read in place
			delete(a.members, name)
		}
	}
}

// cleanMember turns a tar name into a slash path without "./" or a
// trailing slash; "" for the archive root.
func cleanMember(n string) string {
	n = path.Clean("/" + n)
	return strings.TrimPrefix(n, "/")
}

func (a *Archive) has(name string) bool {
	_, err := a.lookup(name)
	return err == nil
}

// lookup finds a regular member, following links between members.
func (a *Archive) lookup(name string) (member, error) {
	name = cleanMember(name)
	for range maxLinks {
		m, ok := a.members[name]
		if !ok {
			return member{}, fmt.Errorf("%s: no %q in the archive", a.name, name)
		}
		switch m.typ {
		case tar.TypeSymlink:
			if path.IsAbs(m.link) {
				name = cleanMember(m.link)
			} else {
				name = cleanMember(path.Join(path.Dir(name), m.link))
			}
		case tar.TypeLink:
			name = m.link
		default:
			return m, nil
		}
	}
	return member{}, fmt.Errorf("%s: %q: too many links", a.name, name)
}

// open returns a reader of a member's data.
func (a *Archive) open(name string) (*io.SectionReader, error) {
	m, err := a.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(a.r, m.offset, m.size), nil
}

// readFile reads a small unverified member (index.json, manifest.json).
func (a *Archive) readFile(name string) ([]byte, error) {
	sr, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if sr.Size() > maxJSON {
		return nil, fmt.Errorf("%s: %s: too large (%d bytes)", a.name, name, sr.Size())
	}
	return io.ReadAll(sr)
}

// blobPath is where an OCI layout keeps a blob.
func blobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// readBlob reads a small blob from member name and verifies it against
// desc.
func (a *Archive) readBlob(name string, desc ocispec.Descriptor) ([]byte, error) {
	sr, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if sr.Size() > maxJSON {
		return nil, fmt.Errorf("%s: blob %s: too large (%d bytes)", a.name, desc.Digest, sr.Size())
	}
	b, err := io.ReadAll(sr)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", a.name, name, err)
	}
	if err := a.verify(bytes.NewReader(b), int64(len(b)), desc); err != nil {
		return nil, err
	}
	return b, nil
}

// verify checks that r holds size bytes whose digest is desc.Digest, and
// that size matches desc.Size when the descriptor has one.
func (a *Archive) verify(r io.Reader, size int64, desc ocispec.Descriptor) error {
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("%s: blob %q: %w", a.name, desc.Digest, err)
	}
	if desc.Size > 0 && desc.Size != size {
		return fmt.Errorf("%s: blob %s: size %d, the descriptor says %d", a.name, desc.Digest, size, desc.Size)
	}
	v := desc.Digest.Verifier()
	if _, err := io.Copy(v, r); err != nil {
		return fmt.Errorf("%s: reading blob %s: %w", a.name, desc.Digest, err)
	}
	if !v.Verified() {
		return fmt.Errorf("%s: blob %s: digest mismatch (the content does not match its descriptor)", a.name, desc.Digest)
	}
	return nil
}

// compression names the compression whose magic bytes start b, or "".
func compression(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(b, []byte("BZh")):
		return "bzip2"
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "xz"
	}
	return ""
}

// decompressor returns a decompressing reader of r for comp.
func decompressor(comp string, r io.Reader) (io.ReadCloser, error) {
	switch comp {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	case "":
		return io.NopCloser(r), nil
	}
	return nil, errors.New(comp + "-compressed archives are not supported: use an uncompressed, gzip or zstd one")
}

package helper

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/internal/imagearchive"
	"github.com/smithbuild/smith/internal/protocol"
)

// openArchiveFile opens the image archive in the file path (inside the
// folder root when root is not empty: links are followed only inside it);
// close releases both.
func openArchiveFile(root, path, name string, opt imagearchive.Options) (a *imagearchive.Archive, close func(), err error) {
	var f *os.File
	if root != "" {
		r, err := os.OpenRoot(root)
		if err != nil {
			return nil, nil, err
		}
		f, err = r.Open(path)
		r.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w (an archive must be a file of the build context)", name, err)
		}
	} else if f, err = os.Open(path); err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		a, err = imagearchive.OpenWith(f, fi.Size(), name, opt)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return a, func() { a.Close(); f.Close() }, nil
}

// Unpack runs one unpack request: the archive's inspection (a
// protocol.Image in req.Out), or one layer applied onto req.Out. Messages
// about the archive go to stderr.
func Unpack(req protocol.Unpack, stderr io.Writer) error {
	var plat *ocispec.Platform
	if req.Platform != "" {
		p, err := platforms.Parse(req.Platform)
		if err != nil {
			return fmt.Errorf("unpack: --platform: %w", err)
		}
		plat = &p
	}
	name := req.Name
	if name == "" {
		name = filepath.Base(req.Archive)
	}

	a, closeArchive, err := openArchiveFile(req.Context, req.Archive, name, imagearchive.Options{TempDir: req.TempDir, MaxBytes: req.MaxBytes})
	if err != nil {
		return err
	}
	defer closeArchive()
	img, err := a.Image(req.Tag, plat)
	if err != nil {
		return err
	}
	if req.Inspect && plat != nil && img.Platform.OS != "" && !platforms.Only(*plat).Match(img.Platform) {
		fmt.Fprintf(stderr, "warning: %s: the image is for %s, not %s\n", name, platforms.Format(img.Platform), platforms.Format(*plat))
	}

	if err := os.MkdirAll(req.Out, 0o755); err != nil {
		return err
	}
	if req.Inspect {
		b, err := protocol.EncodeImage(protocol.Image{Config: img.Config, Layers: len(img.Layers)})
		if err != nil {
			return fmt.Errorf("encoding the image's inspection: %w", err)
		}
		return os.WriteFile(filepath.Join(req.Out, protocol.ImageFile), b, 0o644)
	}
	root, err := os.OpenRoot(req.Out)
	if err != nil {
		return err
	}
	defer root.Close()
	return img.ApplyLayer(req.Layer, root, stderr)
}

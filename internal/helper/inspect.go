package helper

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/containerd/platforms"
	"github.com/smithbuild/smith/internal/imagearchive"
	"github.com/smithbuild/smith/internal/pkgdb"
	"github.com/smithbuild/smith/internal/protocol"
)

// Inspect prints, for every file of the microcontainer in image (an OCI
// archive file or layout folder), the package that owns it and why it is
// there, from the package manifest the build attached. tag and plat pick
// the image in an archive of several; nil plat is this machine's.
func Inspect(image, tag string, plat *platforms.Platform, stdout io.Writer) error {
	a, cleanup, err := openImageArchive(image)
	if err != nil {
		return err
	}
	defer cleanup()
	img, err := a.Image(tag, plat)
	if err != nil {
		return err
	}
	st, err := a.Attestation(img, pkgdb.PredicateType)
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("%s: the image has no smith package manifest (was it built by smith, exported with its attestations?)", image)
	}
	m, err := protocol.DecodeManifestStatement(st)
	if err != nil {
		return fmt.Errorf("decoding the package manifest: %w", err)
	}
	return printInspect(stdout, m)
}

// openImageArchive opens an OCI archive file, or an OCI layout folder by
// reading it as a tar built on the fly.
func openImageArchive(p string) (*imagearchive.Archive, func(), error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	path := p
	cleanup := func() {}
	if fi.IsDir() {
		tmp, err := os.CreateTemp("", "smith-inspect-*.tar")
		if err != nil {
			return nil, nil, err
		}
		if err := tarDir(tmp, p); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, nil, fmt.Errorf("reading the layout %s: %w", p, err)
		}
		tmp.Close()
		path = tmp.Name()
		cleanup = func() { os.Remove(path) }
	}
	a, closeArchive, err := openArchiveFile("", path, filepath.Base(p), imagearchive.Options{})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return a, func() { closeArchive(); cleanup() }, nil
}

func printInspect(w io.Writer, m *pkgdb.Manifest) error {
	if m.Distro != nil {
		fmt.Fprintf(w, "distribution: %s %s\n", m.Distro.ID, m.Distro.VersionID)
	}
	fmt.Fprintf(w, "packages: %d (unused dependencies: %d)\n", len(m.Packages), len(m.Unused))
	for _, p := range m.Packages {
		part := ""
		if p.InstalledFiles > len(p.Files) {
			part = fmt.Sprintf(" (partial: %d of %d files)", len(p.Files), p.InstalledFiles)
		}
		fmt.Fprintf(w, "  %s%s\n", p.ID, part)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tPACKAGE\tWHY")
	for _, f := range m.Files {
		pkg := f.Package
		if pkg == "" {
			pkg = "-"
		}
		why := strings.Join(f.Reasons, "; ")
		if why == "" {
			why = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Path, pkg, why)
	}
	return tw.Flush()
}

// tarDir writes the folder dir as a tar to w.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		return err
	}
	return tw.Close()
}

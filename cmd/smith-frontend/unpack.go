package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/smithbuild/smith/internal/helper"
	"github.com/smithbuild/smith/internal/imagearchive"
	"github.com/smithbuild/smith/internal/protocol"
)

const unpackUsage = `usage: smith-frontend unpack --archive FILE [--tag T] [--platform P] --inspect --out DIR
       smith-frontend unpack --archive FILE [--tag T] [--platform P] --layer K --out DIR
       smith-frontend unpack --request FILE

Reads an image archive: an OCI image layout or a docker save archive, as a
tar, .tar.gz/.tgz or zstd file. --inspect writes DIR/image.json:
{"version": 1, "config": <the image config, as in the archive>, "layers": N}.
--request reads the whole job as JSON (the build passes it so). --layer K
applies layer K (0-based) onto DIR, which holds layers 0..K-1: whiteouts
are honoured, nothing is written outside DIR, ownership, modes, mtimes,
symlinks and hard links are kept, devices and FIFOs skipped. Every blob read
is verified against its digest.
`

func runUnpack(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("unpack", unpackUsage, stderr)
	archive := fl.String("archive", "", "the image archive file")
	name := fl.String("name", "", "the archive's name in messages (default: the file's base name)")
	tag := fl.String("tag", "", "the image to use: a ref.name annotation or RepoTags entry, whole or its tag part (default: the only image, else \"latest\")")
	platform := fl.String("platform", "", "os/arch[/variant] to pick in an image index (default: this machine's)")
	inspect := fl.Bool("inspect", false, "write DIR/image.json with the image config and the number of layers")
	layer := fl.Int("layer", -1, "apply layer `K` (0-based) onto DIR")
	out := fl.String("out", "", "the output folder")
	tmp := fl.String("tmp", "", "where a compressed archive is decompressed (default $TMPDIR, else /tmp)")
	maxBytes := fl.Int64("max-bytes", imagearchive.DefaultMaxBytes, "the most bytes the archive, and each layer, may decompress to")
	context := fl.String("context", "", "open --archive inside this folder (the build context), never following a link out of it")
	request := fl.String("request", "", "read the whole job as JSON from this file; no other flag goes with it")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *request != "" {
		if fl.NFlag() != 1 || fl.NArg() > 0 {
			fl.Usage()
			return errors.New("unpack: --request takes no other flag or argument")
		}
		req, err := readRequest(*request, "the unpack request", protocol.DecodeUnpack)
		if err != nil {
			return err
		}
		return helper.Unpack(req, stderr)
	}
	switch {
	case fl.NArg() > 0:
		fl.Usage()
		return fmt.Errorf("unpack: unexpected argument %q", fl.Arg(0))
	case *archive == "" || *out == "":
		fl.Usage()
		return errors.New("unpack: --archive and --out are required")
	case *inspect == (*layer >= 0):
		fl.Usage()
		return errors.New("unpack: give exactly one of --inspect and --layer K")
	}
	req := protocol.Unpack{Version: protocol.Version, Archive: *archive, Context: *context, Name: *name, Tag: *tag,
		Platform: *platform, TempDir: *tmp, MaxBytes: *maxBytes, Out: *out, Inspect: *inspect, Layer: max(*layer, 0)}
	if err := req.Check(); err != nil {
		return err
	}
	return helper.Unpack(req, stderr)
}

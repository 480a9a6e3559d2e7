package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"

	"github.com/smithbuild/smith/internal/frontend"
)

// defaultImage is the frontend image the offline LLB runs the helper from;
// set at link time to the image the binary is published as.
var defaultImage = "127.0.0.1:5000/smith:dev"

const llbUsage = `usage: smith-frontend llb [flags] [smith.yaml]

Prints the LLB definition of a smith.yaml to stdout without a BuildKit
daemon, e.g. for "| buildctl debug dump-llb", or "| buildctl build --local
context=. …" on a builder that ignores "# syntax=". Offline, the source
and parent images' configs are unknown: nothing is inherited from them, and
the image config (--image-config) holds only what smith.yaml sets. Image
archives in the build context need the frontend.
`

func runLLB(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("llb", flag.ContinueOnError)
	fl.Usage = func() { fmt.Fprint(os.Stderr, llbUsage); fl.PrintDefaults() }
	helper := fl.String("helper-image", defaultImage, "the smith frontend image to run the trace helper from")
	platform := fl.String("platform", platforms.DefaultString(), "target platform")
	imageConfig := fl.String("image-config", "", "also write the OCI image config JSON to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	file := "smith.yaml"
	switch fl.NArg() {
	case 0:
	case 1:
		file = fl.Arg(0)
	default:
		fl.Usage()
		return errors.New("llb: give at most one smith.yaml")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	p, err := platforms.Parse(*platform)
	if err != nil {
		return fmt.Errorf("--platform: %w", err)
	}
	p = platforms.Normalize(p)
	gen, err := frontend.Offline{Helper: llb.Image(*helper), Warnings: stderr}.Generate(context.Background(), filepath.Base(file), data, p)
	if err != nil {
		return err
	}
	def, err := gen.State.Marshal(context.Background(), llb.Platform(p))
	if err != nil {
		return err
	}
	if *imageConfig != "" {
		dt, err := json.MarshalIndent(gen.Image, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*imageConfig, append(dt, '\n'), 0o644); err != nil {
			return err
		}
	}
	return llb.WriteTo(def, stdout)
}

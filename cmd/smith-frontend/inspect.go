package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/containerd/platforms"

	"github.com/smithbuild/smith/internal/helper"
)

const inspectUsage = `usage: smith-frontend inspect [--platform os/arch] [--tag TAG] IMAGE

Prints, for every file of a microcontainer smith built, the package that
owns it and why it is in the image, from the package manifest the build
attached. IMAGE is an OCI image archive (buildctl/buildx --output
type=oci,dest=IMAGE) or an OCI layout folder.
`

func runInspect(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("inspect", inspectUsage, stderr)
	platform := fl.String("platform", "", "the image's platform in a multi-platform archive (default: this machine's)")
	tag := fl.String("tag", "", "the image's name or tag in an archive that holds several")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return errors.New("inspect: want one image")
	}
	var plat *platforms.Platform
	if *platform != "" {
		p, err := platforms.Parse(*platform)
		if err != nil {
			return fmt.Errorf("--platform: %w", err)
		}
		plat = &p
	}
	return helper.Inspect(fl.Arg(0), *tag, plat, stdout)
}

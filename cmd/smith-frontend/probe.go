package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/smithbuild/smith/internal/helper"
	"github.com/smithbuild/smith/internal/protocol"
)

// runProbe runs the probe the build's probe step hands over in a file,
// with the step's environment (the image's).
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "--spec" {
		return errors.New("usage: smith-frontend probe --spec FILE (the build runs it with the probe as JSON)")
	}
	p, err := readRequest(args[1], "the probe", protocol.DecodeProbe)
	if err != nil {
		return err
	}
	return helper.Probe(ctx, p, os.Environ(), stdout, stderr)
}

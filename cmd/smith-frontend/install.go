package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/smithbuild/smith/internal/helper"
	"github.com/smithbuild/smith/internal/protocol"
)

// runInstall runs the RPM install step the build hands over in a file: a
// locked transaction and the record of the rpmdb.
func runInstall(args []string, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "--spec" {
		return errors.New("usage: smith-frontend install --spec FILE (the build runs it with the install request as JSON)")
	}
	spec, err := os.ReadFile(args[1])
	if err != nil {
		return fmt.Errorf("reading the install request: %w", err)
	}
	in, err := protocol.DecodeInstall(spec)
	if err != nil {
		return fmt.Errorf("decoding the install request: %w", err)
	}
	return helper.Install(in, stderr)
}

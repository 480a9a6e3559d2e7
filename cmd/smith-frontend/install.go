package main

import (
	"errors"
	"io"

	"github.com/smithbuild/smith/internal/helper"
	"github.com/smithbuild/smith/internal/protocol"
)

// runInstall runs the RPM install step the build hands over in a file: a
// locked transaction and the record of the rpmdb.
func runInstall(args []string, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "--spec" {
		return errors.New("usage: smith-frontend install --spec FILE (the build runs it with the install request as JSON)")
	}
	in, err := readRequest(args[1], "the install request", protocol.DecodeInstall)
	if err != nil {
		return err
	}
	return helper.Install(in, stderr)
}

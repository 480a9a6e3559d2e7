// Package helper is what smith's in-build helper does once
// cmd/smith-frontend has read its request: trace runs a protocol.Plan
// (closure for the closure, rootfs for the output, pkgdb for the package
// manifest), unpack a protocol.Unpack over an image archive
// (imagearchive), probe a protocol.Probe under ptrace (probe), install a
// protocol.Install with the step's rpm (a locked transaction, the record of
// the rpmdb); inspect reads the package manifest back from an exported
// image.
//
// It does the helper's I/O on the folders it is given and holds no flag
// parsing. It must not depend on BuildKit, config, llbgen or frontend: the
// helper runs from requests alone, never from smith.yaml.
package helper

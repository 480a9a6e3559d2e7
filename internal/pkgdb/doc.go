// Package pkgdb reads a source's package database (the rpmdb record the
// install step leaves, or dpkg's status and file lists) and builds from it
// the package manifest (attest.Manifest): which installed package each
// file of a microcontainer comes from, and which installed packages
// contributed nothing. It also writes the package record scanners read in
// the image (dpkg status.d, container-manifest-2) and the SPDX document.
// The in-build helper computes the manifest; the frontend attaches it to
// the image as an in-toto attestation. Standard library only (and attest),
// no I/O.
package pkgdb

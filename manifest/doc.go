// Package manifest says which installed RPM package each file of a
// microcontainer comes from, and which installed packages contributed
// nothing. The in-build helper computes it from the rpmdb record the
// install step leaves; the frontend attaches it to the image as an in-toto
// attestation. Standard library only, no I/O.
package manifest

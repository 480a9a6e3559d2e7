// Package lock is smith.lock: every RPM of a build pinned by URL and
// SHA-256, per architecture, with a digest of the smith.yaml fields that
// chose them, so a locked build fetches each RPM as its own checksummed
// BuildKit source and never solves. It parses and renders the file and
// computes the input digest; it does no I/O (standard library and config).
package lock

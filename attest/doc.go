// Package attest holds the types of smith's package manifest: the in-toto
// predicate (PredicateType) smith attaches to every image whose source has
// a package database, saying which package each file of the image comes
// from, which installed packages contributed nothing, and what the image
// was made from. Decode an attestation's predicate into a Manifest.
//
// This package is smith's public API for reading attestations; it holds
// types only and imports nothing.
package attest

// Package config owns smith.yaml: it turns the bytes of the file into a
// validated [File] in which every value remembers its line and column.
//
// Parse is strict. Unknown keys (with a "did you mean" hint), duplicate keys,
// values of the wrong shape and values that can be checked without touching
// a file system (absolute dir and mounts, glob syntax, NAME=VALUE env items,
// port numbers, user and groups) are reported as *Error, which carries the
// file name, the position and the field path, so the frontend can point the
// user at the offending line. Parse is the one validation pass: the build
// and --check run no other check that needs nothing fetched.
//
// The value shapes of the original tool are a contract: scalars are coerced
// to strings where a string is expected, ports may be written as a map, and
// type is auto-detected from package. A few extensions are accepted on top:
// ports as a list, env as a map, package as a list, type "container" as an
// alias of "oci", and image references (with or without a digest) detected as
// "oci".
//
// Each key is defined once, in the table Keys returns: its decoder, its
// part of the normalized definition (File.Normalized), the package types it
// applies to and its one-line doc. The unknown-key hint, the README test and
// the RPM-only check read the same table.
//
// Decisions worth knowing:
//   - A key whose value is null (e.g. "user:" with nothing after it) counts
//     as absent: Set stays false, but the key still appears in File.Keys.
//   - Parse reports only the first error it finds, as a *Error.
//   - YAML syntax errors come from gopkg.in/yaml.v3; their line is recovered
//     from the message when it has one (the column is then 0).
//
// user and groups are checked by resolving them with package
// internal/passwd, which owns their meaning (the user spec, the built-in
// users and groups, the id allocation); its *passwd.Error becomes an *Error
// at the user value or at the item of groups at fault.
//
// This package imports only the standard library, gopkg.in/yaml.v3 and
// smith's pure internal/passwd package (itself standard-library-only). It
// must not import os, net/..., BuildKit or any other smith package: it takes
// bytes and returns data, and knows nothing of files, images or builds.
package config

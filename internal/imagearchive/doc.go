// Package imagearchive reads container image archives from a build
// context and applies their layers to a directory.
//
// It owns two formats:
//
//   - an OCI image layout in a tar file (oci-layout, index.json,
//     blobs/<alg>/<hex>), as written by `buildctl --output type=oci`,
//     skopeo or smith itself;
//   - a `docker save` archive (manifest.json naming a config and layer
//     files: the legacy <id>/layer.tar form and the blobs/sha256 form of
//     Docker 25 and later).
//
// The outer archive may be plain tar or gzip (.tar.gz, .tgz) or zstd
// compressed; the compression is detected from the first bytes, not the
// file name. A compressed archive is decompressed once into an unlinked
// temporary file (gzip is not seekable); then, as for a plain tar, one pass
// records where each member's data starts and members are read in place
// through io.SectionReader, so no archive is held in memory.
//
// Trust: index.json and manifest.json are not content addressed; everything
// they point to is. Every manifest, index, config and layer blob is checked
// against the sha256 (or sha512) digest and size of its descriptor before it
// is used. Legacy docker layers, which have no blob digest, are checked
// against the config's rootfs.diff_ids instead.
//
// Archive.Image picks one image: by tag (the OCI
// org.opencontainers.image.ref.name or containerd image name annotation,
// or a docker RepoTags entry, matched whole or by its tag part, or a
// manifest digest), then by platform inside an index.
//
// Image.ApplyLayer extracts one layer (gzip, zstd or uncompressed, again
// detected by magic bytes) onto an os.Root holding the layers below it,
// with OCI whiteouts (.wh.NAME, .wh..wh..opq). No entry can land outside
// the root: names that are absolute or contain "..", and hard links whose
// target is, are errors; a symlinked directory met on the way to an entry
// is resolved as it would be inside a container whose root is the root
// (an absolute target starts over at the root, ".." stops at it), so
// `d -> /` followed by `d/f` writes f at the top of the root, never outside.
// That walk is closure.Walk, the one the closure resolves its paths with.
// Ownership (numeric), permission and setuid/setgid/sticky bits, mtimes,
// symlink targets and hard links are kept; devices and FIFOs are skipped
// with a notice; xattrs are ignored.
//
// The package touches the host file system only through the os.Root it is
// given and the temporary file for compressed archives.
package imagearchive

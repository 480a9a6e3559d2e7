// Package rootfs writes a closure.Closure out as a directory tree: the rootfs of
// a microcontainer.
//
// Both the source and the output are opened with os.OpenRoot, so neither a
// source path nor a symlink already in the output can make a write land
// outside outDir, and the source is only ever read. The output follows the
// microcontainer principles rather than the source's metadata: everything is
// owned by 0:0 (when running as root), regular files are 0755 if any exec bit
// was set and 0644 otherwise, directories are 0755, setuid, setgid and
// sticky bits are dropped with a notice, and every mtime (symlinks and
// directories included, directories last) is Options.Epoch. Symlinks are
// recreated verbatim and hard links between copied files are kept.
//
// The overlay (the context's rootfs/) is applied last, walked without
// following links: files and symlinks replace what is there, directories
// merge, and an overlay directory replaces a non-directory (a symlink, say)
// instead of writing through it. .gitignore placeholder files are skipped.
//
// rootfs may use os; it must not import BuildKit or the config and llbgen
// packages.
package rootfs

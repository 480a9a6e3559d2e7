// Package closure computes the closure of files a microcontainer needs: the
// requested paths, the symlinks on the way to them, and the ELF shared
// libraries and interpreters they load, transitively.
//
// Everything is read through an [fs.FS] root that also implements
// [fs.ReadLinkFS]. The package never lets the FS follow a symlink: each path
// component is resolved here with Lstat and ReadLink, absolute targets are
// re-rooted at the root and ".." stops at the root, so a closure can never
// name a file outside the root and never depends on the build machine's own
// filesystem. Paths in the API are absolute and clean ("/usr/bin/cat"); the
// FS sees them unrooted ("usr/bin/cat").
//
// Library lookup follows ld.so rather than the original tool: every file
// whose content is ELF is traced (not only files with an exec bit), the
// search order is DT_RPATH (the object's and its loaders', only without
// DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.conf, then the default
// and multiarch directories, and a candidate must match the object's ELF class
// and machine. $ORIGIN expands to the directory of the object after symlink
// resolution. Anything unresolved is an error that names the request.
//
// Choices where ld.so itself has no single answer: $LIB expands to every
// plausible value (lib64 or lib, and lib/<triplet>) and $PLATFORM to the
// usual AT_PLATFORM string of the machine; $ORIGIN inside LibraryPath refers
// to the object being searched for. Files that look like ELF but cannot be
// parsed are errors when traced and are skipped when they are search
// candidates.
//
// closure imports the standard library only; it must not import os, os/exec,
// net or log, so it can be tested over [testing/fstest.MapFS] and stays free
// of I/O policy. Writing a closure out is the job of package rootfs.
package closure

// Package passwd computes the user database files of a microcontainer.
//
// It owns the meaning of the smith.yaml fields `user`, `groups` and `nss`:
// parsing the OCI user spec ("uid", "name", "uid:gid", "name:group" or a
// mix), resolving it against a small built-in table of system users and
// groups, allocating ids for new supplementary groups, and rendering the
// text of /etc/passwd, /etc/group and /etc/nsswitch.conf together with the
// NSS modules that nsswitch.conf names.
//
// It keeps the intent of the original smith tool and fixes its bugs: every
// passwd line has seven fields and the runtime user's real primary gid
// (smith bug B10), every file ends with a newline, and the user stays a
// member of built-in groups listed in `groups` (smith bug B11).
//
// The package uses the standard library only and does no I/O: Resolve is a
// pure function of its Input, and its output is deterministic. It must not
// import config: config.Parse calls Resolve to check user and groups, and
// gives its *Error a position in smith.yaml. Writing the files into the
// image, tracing the NSS modules' libraries and the `root` field are handled
// by the callers.
package passwd

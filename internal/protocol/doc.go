// Package protocol is the contract between the frontend and smith's helper,
// the same binary run inside build steps: every request the frontend hands
// the helper and every response the helper leaves for the frontend.
//
//   - Plan: the trace step's job (what to trace, which files to generate,
//     which directories to create and who may write to them); its response
//     is the package manifest (EncodeManifest), which the frontend attaches
//     to the image and `smith-frontend inspect` reads back.
//   - Unpack: one step over an image archive of the build context; with
//     Inspect its response is an Image (the archive's config and layer
//     count), else the layer applied onto the output.
//   - Probe: one smith.yaml probe run against the finished image.
//   - Install: the RPM install step: a locked transaction run with rpm (or,
//     after dnf, nothing), then the record of the rpmdb the trace step's
//     Plan.RPM reads.
//
// Requests travel as JSON files mounted into their step (no size limit,
// unlike an argument or the environment); responses are files of the step's
// output that the frontend reads back. Each message has an Encode/Decode
// pair, used on both sides, and carries Version: a helper refuses a message
// of another version, so a frontend and a helper from different smith
// releases (a smith-helper build context) fail clearly instead of
// misreading each other. The package manifest is versioned by its in-toto
// predicate type instead, as it is published with the image.
//
// llbgen encodes the requests; cmd/smith-frontend decodes them and
// internal/helper runs them, encoding the responses the frontend decodes.
// The package holds data types and their codecs only: standard library,
// closure and pkgdb, no I/O.
package protocol

// Package frontend is the BuildKit gateway glue of smith: it reads smith.yaml
// through dockerui, resolves the source image and the helper image, asks
// llbgen for the LLB, solves it once per target platform and returns the
// result with its image config.
//
// Everything the build asks of BuildKit goes through a Resolver: image
// configs, named contexts, the build context and its files, solves. Build
// wires the gateway client and dockerui in; Offline stands in for a daemon
// when smith-frontend llb prints LLB, so both take the same path; the tests
// use fakes. Build's steps are newBuild (everything --check reports, with
// nothing fetched), prepare (what every platform shares) and platform (one
// image: generate, solve, probes, attestations).
//
// Errors that come from smith.yaml (config.Error) are attached to their
// source range so buildctl and buildx print the offending line. The package
// holds no translation logic: that lives in llbgen. It must not import closure
// beyond what llbgen re-exports.
package frontend

// Package frontend is the BuildKit gateway glue of smith: it reads smith.yaml
// through dockerui, resolves the source image and the helper image, asks
// llbgen for the LLB, solves it once per target platform and returns the
// result with its image config.
//
// Errors that come from smith.yaml (config.Error) are attached to their
// source range so buildctl and buildx print the offending line. The package
// holds no translation logic: that lives in llbgen. It must not import deps
// beyond what llbgen re-exports.
package frontend

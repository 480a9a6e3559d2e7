// Package llbgen turns a validated smith.yaml model into BuildKit LLB and an
// OCI image config.
//
// It is pure: it never solves, reads files or talks to a daemon. Everything it
// needs from the outside world — the source tree, the helper image, the build
// context, the source image's config — arrives as already-constructed LLB
// states and plain values in Options, so tests can call Generate with
// hand-made inputs.
//
// Imports: config, protocol (the requests it hands the in-build helper),
// closure (only for the types protocol carries), passwd (the user database
// files), lock (smith.lock's packages), BuildKit's client/llb
// and the OCI/Docker image spec types. It must not import the gateway client,
// dockerui, frontend, os, os/exec or net.
package llbgen

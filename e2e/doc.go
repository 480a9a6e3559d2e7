// Package e2e holds smith's end-to-end tests: they build microcontainers
// through the real frontend image on a real buildkitd, export them, check
// their files and config, and run them with runc.
//
// They need the toolchain that hack/up starts and the base image that
// hack/test-images pushes; `make test` does both and sets SMITH_E2E=1.
// Without SMITH_E2E the tests skip and say why; with it, a missing daemon
// is a failure, never a skip.
package e2e

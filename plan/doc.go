// Package plan is the contract between the frontend and the helper that
// runs inside the build: what to trace, which files to generate, which
// directories to create and who may write to them.
//
// llbgen fills a Plan and hands it to the helper as a JSON file mounted
// into the trace step (--plan-file); the helper's trace command executes it
// with deps (the closure) and tree (the output). A Probe travels the same
// way to the probe command. The package holds data types only:
// standard library and deps, no I/O.
package plan

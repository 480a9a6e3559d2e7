// Command smith-frontend is smith's BuildKit frontend and, in the same
// static binary, the helper that runs inside the build.
//
// With no arguments it serves the BuildKit gateway protocol (this is how
// BuildKit starts it from the frontend image). Subcommands (the helper's
// parse their flags or read their protocol request, then call
// internal/helper):
//
//	trace    resolve the ELF closure of paths in a root folder (the in-build helper; also useful by hand)
//	unpack   read an image archive of the build context: its config, or one layer (in-build)
//	probe    run a smith.yaml probe against the finished image (in-build)
//	install  install smith.lock's RPMs with rpm, and record the rpmdb (in-build)
//	inspect  print each file of a built image with its package and why it is there
//	llb      print the LLB of a smith.yaml without a daemon, for debugging
//	version  print the version
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto" // the gateway's wire codec

	"github.com/smithbuild/smith/internal/frontend"
)

// version is set at link time (-X main.version=…).
var version = "dev"

func main() {
	frontend.Version = version
	if len(os.Args) < 2 {
		if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
			fmt.Fprintf(os.Stderr, "error: %+v\n", err)
			os.Exit(1)
		}
		return
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "trace":
		err = runTrace(args, os.Stdout, os.Stderr)
	case "llb":
		err = runLLB(args, os.Stdout, os.Stderr)
	case "unpack":
		err = runUnpack(args, os.Stdout, os.Stderr)
	case "inspect":
		err = runInspect(args, os.Stdout, os.Stderr)
	case "probe":
		err = runProbe(appcontext.Context(), args, os.Stdout, os.Stderr)
	case "install":
		err = runInstall(args, os.Stderr)
	case "version", "--version", "-v":
		fmt.Println("smith-frontend", version)
	default:
		err = fmt.Errorf("unknown command %q (want trace, unpack, probe, install, inspect, llb or version; no arguments serves BuildKit)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// newFlagSet makes a command's flag set: errors and the usage text (usage,
// then the flags) go to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, usage); fl.PrintDefaults() }
	return fl
}

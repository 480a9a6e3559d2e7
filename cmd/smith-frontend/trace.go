package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/helper"
	"github.com/smithbuild/smith/internal/protocol"
)

const traceUsage = `usage: smith-frontend trace [--root DIR] [--out DIR] [flags] PATH...

Resolves the closure of PATH... inside DIR (default /): the files, every
symlink on the way, and the shared libraries and interpreter of every ELF
file, and prints each entry with the reason it is there. With --out it also
copies the closure into an output folder using smith's file policy (root
owned, 0644/0755, no setuid, mtimes from --epoch). Inside a build the
frontend passes the whole job as a JSON plan file (--plan-file).
`

func runTrace(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("trace", traceUsage, stderr)
	root := fl.String("root", "/", "the source root folder; symlinks never leave it")
	out := fl.String("out", "", "copy the closure into this folder (default: only print it)")
	overlay := fl.String("overlay", "", "a folder copied over the output last (smith's rootfs/), its ELF files traced too; ignored if absent")
	planJSON := fl.String("plan", os.Getenv(protocol.Env), "the whole job as JSON (default $"+protocol.Env+"); the flags below add to it")
	planFile := fl.String("plan-file", "", "read the whole job as JSON from this file (the build passes it so; thousands of paths fit)")
	epoch := fl.String("epoch", os.Getenv("SOURCE_DATE_EPOCH"), "mtime in Unix seconds for everything written (default $SOURCE_DATE_EPOCH, else 0)")
	mkdir := fl.String("mkdir", "", "comma-separated folders to create in the output")
	var excludes multiFlag
	fl.Var(&excludes, "exclude", "a glob to leave out, with its subtree (repeatable)")
	if err := fl.Parse(args); err != nil {
		return err
	}

	if *planFile != "" {
		b, err := os.ReadFile(*planFile)
		if err != nil {
			return fmt.Errorf("reading the plan: %w", err)
		}
		*planJSON = string(b)
	}
	p := protocol.Plan{Version: protocol.Version}
	if *planJSON != "" {
		var err error
		if p, err = protocol.DecodePlan([]byte(*planJSON)); err != nil {
			return fmt.Errorf("decoding the plan: %w", err)
		}
	}
	for _, a := range fl.Args() {
		p.Trace.Paths = append(p.Trace.Paths, closure.Pattern{Glob: a})
	}
	for _, e := range excludes {
		p.Trace.Excludes = append(p.Trace.Excludes, closure.Pattern{Glob: e})
	}
	if *mkdir != "" {
		p.Mkdir = append(p.Mkdir, strings.Split(*mkdir, ",")...)
	}
	if *epoch != "" {
		n, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("epoch %q: want a non-negative number of seconds", *epoch)
		}
		p.Epoch = n
	}
	if len(p.Trace.Paths) == 0 && *planJSON == "" {
		fl.Usage()
		return errors.New("trace: no paths given")
	}
	return helper.Trace(p, helper.TraceOptions{Root: *root, Out: *out, Overlay: *overlay, Planned: *planJSON != "",
		Stdout: stdout, Stderr: stderr})
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

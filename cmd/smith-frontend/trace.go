package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/smithbuild/smith/deps"
	"github.com/smithbuild/smith/llbgen"
	"github.com/smithbuild/smith/tree"
)

const traceUsage = `usage: smith-frontend trace [--root DIR] [--out DIR] [flags] PATH...

Resolves the closure of PATH... inside DIR (default /): the files, every
symlink on the way, and the shared libraries and interpreter of every ELF
file, and prints each entry with the reason it is there. With --out it also
copies the closure into an output folder using smith's file policy (root
owned, 0644/0755, no setuid, mtimes from --epoch).
`

func runTrace(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("trace", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, traceUsage); fl.PrintDefaults() }
	root := fl.String("root", "/", "the source root folder; symlinks never leave it")
	out := fl.String("out", "", "copy the closure into this folder (default: only print it)")
	overlay := fl.String("overlay", "", "a folder copied over the output last (smith's rootfs/); ignored if absent")
	epoch := fl.String("epoch", os.Getenv("SOURCE_DATE_EPOCH"), "mtime in Unix seconds for everything written (default $SOURCE_DATE_EPOCH, else 0)")
	mkdir := fl.String("mkdir", "", "comma-separated folders to create in the output")
	request := fl.String("request", os.Getenv(llbgen.RequestEnv), "a JSON trace request: paths with their smith.yaml origins, excludes, library path (default $"+llbgen.RequestEnv+")")
	noSource := fl.Bool("no-source", false, "trace nothing; only lay out --mkdir folders and --overlay")
	var excludes multiFlag
	fl.Var(&excludes, "exclude", "a glob to leave out, with its subtree (repeatable)")
	if err := fl.Parse(args); err != nil {
		return err
	}

	var req deps.Request
	if *request != "" {
		if err := json.Unmarshal([]byte(*request), &req); err != nil {
			return fmt.Errorf("decoding --request: %w", err)
		}
	}
	for _, p := range fl.Args() {
		req.Paths = append(req.Paths, deps.Pattern{Glob: p})
	}
	for _, e := range excludes {
		req.Excludes = append(req.Excludes, deps.Pattern{Glob: e})
	}
	if len(req.Paths) == 0 && !*noSource {
		fl.Usage()
		return errors.New("trace: no paths given")
	}

	closure := &deps.Closure{}
	if !*noSource {
		r, err := os.OpenRoot(*root)
		if err != nil {
			return fmt.Errorf("opening root: %w", err)
		}
		defer r.Close()
		closure, err = deps.Resolve(r.FS(), req)
		if err != nil {
			return err
		}
		closure.Why(stdout)
	}
	if *out == "" {
		return nil
	}

	t, err := parseEpoch(*epoch)
	if err != nil {
		return err
	}
	opt := tree.Options{Epoch: t, Log: stderr}
	if fi, err := os.Stat(*overlay); err == nil && fi.IsDir() {
		opt.Overlay = *overlay
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking overlay: %w", err)
	}
	var dirs []string
	if *mkdir != "" {
		dirs = strings.Split(*mkdir, ",")
	}
	return tree.Write(*root, closure, *out, dirs, opt)
}

func parseEpoch(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("epoch %q: want a non-negative number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

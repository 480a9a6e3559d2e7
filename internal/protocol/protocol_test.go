package protocol

import (
	"reflect"
	"strings"
	"testing"

	"github.com/smithbuild/smith/internal/closure"
	"github.com/smithbuild/smith/internal/pkgdb"
)

func TestPlanRoundTrip(t *testing.T) {
	in := Plan{Trace: closure.Request{Paths: []closure.Pattern{{Glob: "/bin/sh", Origin: closure.Origin{File: "smith.yaml", Line: 3, Col: 3, Field: "paths"}}}},
		Mkdir: []string{"/write"}, Owner: Owner{UID: 10, GID: 10}, Epoch: 7,
		RPM: &RPM{Record: Record{Files: "f", Packages: "p"}, Locked: map[string]Pin{"a-1-1.x86_64": {URL: "u", SHA256: "s"}}}}
	b, err := EncodePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"version":1,`) {
		t.Errorf("the version does not come first: %s", b)
	}
	out, err := DecodePlan(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Version != Version || out.Trace.Paths[0] != in.Trace.Paths[0] || out.RPM.Locked["a-1-1.x86_64"].URL != "u" || out.Epoch != 7 {
		t.Errorf("round trip: %+v", out)
	}
}

func TestProbeRoundTrip(t *testing.T) {
	in := Probe{Origin: closure.Origin{File: "smith.yaml", Line: 9, Col: 3, Field: "probe"}, Args: []string{"cat", "/x"}, Exit: 1, Output: "x", Stdin: "in", Source: "/src"}
	b, err := EncodeProbe(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeProbe(b)
	if err != nil || out.Origin != in.Origin || strings.Join(out.Args, " ") != "cat /x" || out.Exit != 1 || out.Stdin != "in" || out.Source != "/src" {
		t.Errorf("round trip: %+v, %v", out, err)
	}
}

// TestDecodeRefuses: another version, none, an unknown field, bad JSON and
// the per-message checks each fail with their own message.
func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		what, json, want string
		decode           func([]byte) error
	}{
		{"plan of a newer smith", `{"version":2,"trace":{"paths":[]}}`, "protocol version 2, but this smith speaks version 1: the frontend and its helper must come from the same smith release", plan},
		{"plan without a version", `{"trace":{"paths":[]}}`, `no protocol version (this smith speaks version 1; a message written by hand needs "version": 1)`, plan},
		{"unknown field", `{"version":1,"trace":{"paths":[]},"mkdirs":["/x"]}`, `unknown field "mkdirs"`, plan},
		{"trailing data", `{"version":1} {}`, "invalid character", plan},
		{"negative epoch", `{"version":1,"epoch":-1}`, "epoch -1: want a non-negative number of seconds", plan},
		{"probe of an older smith", `{"origin":{"file":"o"},"args":["true"],"source":"/s"}`, "no protocol version", probe},
		{"probe without a command", `{"version":1,"origin":{"file":"o"},"args":[],"source":"/s"}`, "the probe has no command", probe},
		{"probe without a source", `{"version":1,"origin":{"file":"o"},"args":["true"]}`, "the probe names no source tree", probe},
		{"unpack of a newer smith", `{"version":3,"archive":"a","out":"o"}`, "protocol version 3", unpack},
		{"unpack without an archive", `{"version":1,"out":"o"}`, "unpack: the request names no archive", unpack},
		{"unpack without an output", `{"version":1,"archive":"a"}`, "unpack: the request names no output folder", unpack},
		{"unpack of a negative layer", `{"version":1,"archive":"a","out":"o","layer":-1}`, "unpack: layer -1: want a layer number from 0", unpack},
		{"inspection and a layer", `{"version":1,"archive":"a","out":"o","inspect":true,"layer":1}`, "unpack: an inspection applies no layer", unpack},
		{"image of an older smith", `{"config":{},"layers":1}`, "no protocol version", image},
		{"image without a config", `{"version":1,"layers":1}`, "no image config", image},
		{"install without a root", `{"version":1,"record":{"files":"f","packages":"p","qa":"q"}}`, "install: the request names no install root", install},
		{"install without a record", `{"version":1,"root":"/r","record":{"files":"f"}}`, "does not say where the record goes", install},
		{"half a cross install", `{"version":1,"root":"/r","record":{"files":"f","packages":"p","qa":"q"},"cross":{"target":"aarch64"}}`, "names both architectures", install},
		{"install of a nameless file", `{"version":1,"root":"/r","record":{"files":"f","packages":"p","qa":"q"},"packages":[{"file":"x"}]}`, "packages[0] needs a NEVRA and a file", install},
		{"install of patterns without a context", `{"version":1,"root":"/r","record":{"files":"f","packages":"p","qa":"q"},"globs":[{"pattern":"*.rpm","name":"./*.rpm"}]}`, "local RPM patterns need the build context", install},
		{"install of a checksum without a path", `{"version":1,"root":"/r","record":{"files":"f","packages":"p","qa":"q"},"packages":[{"nevra":"a","file":"x","sha256":"` + strings.Repeat("0", 64) + `"}]}`, "needs its path", install},
		{"install of a short checksum", `{"version":1,"root":"/r","record":{"files":"f","packages":"p","qa":"q"},"packages":[{"nevra":"a","file":"x","sha256":"ab"}]}`, `a: sha256 "ab": want 64 hex digits`, install},
	} {
		err := tc.decode([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.what, err, tc.want)
		}
	}
}

func TestUnpackRoundTrip(t *testing.T) {
	in := Unpack{Archive: "a.tar", Context: "/ctx", Name: "./a.tar", Tag: "v1", Platform: "linux/arm64",
		TempDir: "/tmp", MaxBytes: 9, Out: "/out", Layer: 3}
	b, err := EncodeUnpack(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeUnpack(b)
	in.Version = Version
	if err != nil || out != in {
		t.Errorf("round trip: %+v, %v; want %+v", out, err, in)
	}
	img := Image{Config: []byte(`{"architecture":"arm64","config":{"Env":["A=<1>"]}}`), Layers: 2}
	if b, err = EncodeImage(img); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeImage(b)
	if err != nil || got.Layers != 2 || got.Version != Version || !strings.Contains(string(got.Config), `"arm64"`) {
		t.Errorf("image round trip: %s, %v", b, err)
	}
}

func plan(b []byte) error    { _, err := DecodePlan(b); return err }
func probe(b []byte) error   { _, err := DecodeProbe(b); return err }
func unpack(b []byte) error  { _, err := DecodeUnpack(b); return err }
func image(b []byte) error   { _, err := DecodeImage(b); return err }
func install(b []byte) error { _, err := DecodeInstall(b); return err }

func TestInstallRoundTrip(t *testing.T) {
	in := Install{Root: "/r", Keys: []string{"/k"}, KeysFrom: "/i", Cross: &Cross{Target: "aarch64", Build: "x86_64"},
		Packages: []Package{{NEVRA: "a-0:1-1.x86_64", File: "/f", SHA256: strings.Repeat("0", 64), Path: "a.rpm", CheckSignature: true}},
		Record:   Record{Files: "f", Packages: "p", QA: "q"}}
	b, err := EncodeInstall(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeInstall(b)
	in.Version = Version
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Errorf("round trip: %+v, %v; want %+v", out, err, in)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	in := &pkgdb.Manifest{Files: []pkgdb.File{{Path: "/bin/sh", Package: "dash", Reasons: []string{"paths[0]"}}}}
	b, err := EncodeManifest(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "}\n") || !strings.Contains(string(b), "\n  ") {
		t.Errorf("not indented, one line at the end: %q", b)
	}
	out, err := DecodeManifest(b)
	if err != nil || len(out.Files) != 1 || out.Files[0].Package != "dash" {
		t.Errorf("round trip: %+v, %v", out, err)
	}
	st := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"` + pkgdb.PredicateType + `","predicate":` + string(b) + `}`
	if out, err = DecodeManifestStatement([]byte(st)); err != nil || len(out.Files) != 1 || out.Files[0].Path != "/bin/sh" {
		t.Errorf("statement: %+v, %v", out, err)
	}
	if _, err := DecodeManifest([]byte("{")); err == nil {
		t.Error("a broken manifest decoded")
	}
}

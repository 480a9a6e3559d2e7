package protocol

import (
	"strings"
	"testing"

	"github.com/smithbuild/smith/deps"
)

func TestPlanRoundTrip(t *testing.T) {
	in := Plan{Trace: deps.Request{Paths: []deps.Pattern{{Glob: "/bin/sh", Origin: "smith.yaml:3:3: paths[0]"}}},
		Mkdir: []string{"/write"}, Owner: Owner{UID: 10, GID: 10}, Epoch: 7,
		RPM: &RPM{Files: "f", Packages: "p", Locked: map[string]Pin{"a-1-1.x86_64": {URL: "u", SHA256: "s"}}}}
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
	in := Probe{Origin: "smith.yaml:9:3: probe[0]", Args: []string{"cat", "/x"}, Exit: 1, Output: "x", Stdin: "in", Source: "/src"}
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
		{"probe of an older smith", `{"origin":"o","args":["true"],"source":"/s"}`, "no protocol version", probe},
		{"probe without a command", `{"version":1,"origin":"o","args":[],"source":"/s"}`, "the probe has no command", probe},
		{"probe without a source", `{"version":1,"origin":"o","args":["true"]}`, "the probe names no source tree", probe},
	} {
		err := tc.decode([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.what, err, tc.want)
		}
	}
}

func plan(b []byte) error  { _, err := DecodePlan(b); return err }
func probe(b []byte) error { _, err := DecodeProbe(b); return err }

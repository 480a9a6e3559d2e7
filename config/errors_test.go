package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// invalidCases are smith.yaml files Parse must refuse, with the message
// (and position) the user sees. e2e.TestCheckInvalid runs each through
// docker buildx build --check, which must say the same.
func invalidCases(t *testing.T) []struct {
	Name, YAML, Err string
	Prefix          bool // Err is the message's start (it goes on)
} {
	b, err := os.ReadFile("testdata/invalid.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, YAML, Err string
		Prefix          bool
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt key would leave Err empty
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name == "" || c.YAML == "" || c.Err == "" {
			t.Fatalf("testdata/invalid.json: a case without name, yaml or err: %+v", c)
		}
	}
	if len(cases) < 70 {
		t.Fatalf("only %d cases in testdata/invalid.json", len(cases))
	}
	return cases
}

func TestParseErrors(t *testing.T) {
	for _, tt := range invalidCases(t) {
		t.Run(tt.Name, func(t *testing.T) {
			f, err := Parse("smith.yaml", []byte(tt.YAML))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want error %q", f, tt.Err)
			}
			if f != nil {
				t.Errorf("Parse returned a File with an error")
			}
			if got := err.Error(); got != tt.Err && !(tt.Prefix && strings.HasPrefix(got, tt.Err)) {
				t.Errorf("error:\n got  %s\n want %s", err, tt.Err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *Error", err, err)
			}
			if e.Pos.IsZero() != strings.HasPrefix(tt.Err, "smith.yaml: ") {
				t.Errorf("error %v: position %v", err, e.Pos)
			}
			if e.File != "smith.yaml" {
				t.Errorf("error File = %q", e.File)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "smith.yaml", Pos: Pos{12, 3}, Field: "paths[2]", Msg: "no file matches"}, "smith.yaml:12:3: paths[2]: no file matches"},
		{Error{File: "smith.yaml", Pos: Pos{1, 1}, Msg: "m"}, "smith.yaml:1:1: m"},
		{Error{File: "smith.yaml", Field: "paths", Msg: "m"}, "smith.yaml: paths: m"},
		{Error{File: "smith.yaml", Pos: Pos{Line: 4}, Msg: "m"}, "smith.yaml:4: m"},
		{Error{Pos: Pos{2, 5}, Field: "dir", Msg: "m"}, "2:5: dir: m"},
		{Error{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

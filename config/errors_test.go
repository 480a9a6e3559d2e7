package config

import (
	"errors"
	"testing"
)

var errorTests = []struct {
	summary string
	yaml    string
	err     string
}{{
	summary: "unknown key with suggestion",
	yaml:    "# syntax=x\npackage: a\npahts: [/a]\n",
	err:     `smith.yaml:3:1: unknown key "pahts" (did you mean "paths"?)`,
}, {
	summary: "unknown key without suggestion",
	yaml:    "workdir: /x\n",
	err:     `smith.yaml:1:1: unknown key "workdir"`,
}, {
	summary: "unknown mock key",
	yaml:    "mock:\n  config: x\n  dep: [a]\n",
	err:     `smith.yaml:3:3: mock: unknown key "dep" (did you mean "deps"?)`,
}, {
	summary: "duplicate key",
	yaml:    "package: a\npaths: [/a]\nuser: x\npaths: [/b]\n",
	err:     `smith.yaml:4:1: duplicate key "paths" (first defined on line 2)`,
}, {
	summary: "duplicate label",
	yaml:    "labels:\n  a: 1\n  a: 2\n",
	err:     `smith.yaml:3:3: labels: duplicate key "a" (first defined on line 2)`,
}, {
	summary: "string for list",
	yaml:    "package: a\npaths: /usr/bin/app\n",
	err:     `smith.yaml:2:8: paths: expected a list of strings, got a string`,
}, {
	summary: "string for cmd",
	yaml:    "cmd: /bin/sh -c true\n",
	err:     `smith.yaml:1:6: cmd: expected a list of strings, got a string`,
}, {
	summary: "mapping for package",
	yaml:    "package: {a: b}\n",
	err:     `smith.yaml:1:10: package: expected a string or a list of strings, got a mapping`,
}, {
	summary: "list for string",
	yaml:    "user: [a]\n",
	err:     `smith.yaml:1:7: user: expected a string, got a list`,
}, {
	summary: "bad bool",
	yaml:    "nss: maybe\n",
	err:     `smith.yaml:1:6: nss: expected true or false`,
}, {
	summary: "quoted bool",
	yaml:    "root: \"yes\"\n",
	err:     `smith.yaml:1:7: root: expected true or false`,
}, {
	summary: "list for bool",
	yaml:    "mock:\n  debuginfo: [true]\n",
	err:     `smith.yaml:2:14: mock.debuginfo: expected true or false, got a list`,
}, {
	summary: "unknown type",
	yaml:    "type: foo\n",
	err:     `smith.yaml:1:7: type: unknown type "foo" (want oci or mock)`,
}, {
	summary: "mapping item in list",
	yaml:    "package: a\npaths:\n  - /a\n  - /b\n  - {x: y}\n",
	err:     `smith.yaml:5:5: paths[2]: expected a string, got a mapping`,
}, {
	summary: "null item",
	yaml:    "cmd: [/bin/app, null]\n",
	err:     `smith.yaml:1:17: cmd[1]: expected a string, got null`,
}, {
	summary: "null item in mock deps",
	yaml:    "mock:\n  deps:\n    -\n",
	err:     `smith.yaml:3:6: mock.deps[0]: expected a string, got null`,
}, {
	summary: "mock not a mapping",
	yaml:    "mock: [a]\n",
	err:     `smith.yaml:1:7: mock: expected a mapping, got a list`,
}, {
	summary: "bad port",
	yaml:    "ports: [80, http]\n",
	err:     `smith.yaml:1:13: ports[1]: "http" is not a port number`,
}, {
	summary: "port out of range",
	yaml:    "ports:\n  \"70000/tcp\": {}\n",
	err:     `smith.yaml:2:3: ports.70000/tcp: port 70000 in "70000/tcp" is out of range (1-65535)`,
}, {
	summary: "port zero",
	yaml:    "ports: [0]\n",
	err:     `smith.yaml:1:9: ports[0]: port 0 in "0" is out of range (1-65535)`,
}, {
	summary: "bad protocol",
	yaml:    "ports: [80/icmp]\n",
	err:     `smith.yaml:1:9: ports[0]: unknown protocol "icmp" in "80/icmp" (want tcp, udp or sctp)`,
}, {
	summary: "reversed port range",
	yaml:    "ports: [9000-8000]\n",
	err:     `smith.yaml:1:9: ports[0]: "9000-8000" is not a valid port range`,
}, {
	summary: "port map value not empty",
	yaml:    "ports:\n  80/tcp: {a: b}\n",
	err:     `smith.yaml:2:11: ports.80/tcp: expected {} or nothing, got a mapping`,
}, {
	summary: "ports scalar",
	yaml:    "ports: 80\n",
	err:     `smith.yaml:1:8: ports: expected a mapping or a list of ports, got a number`,
}, {
	summary: "relative dir",
	yaml:    "dir: app\n",
	err:     `smith.yaml:1:6: dir: "app" is not an absolute path`,
}, {
	summary: "relative mount",
	yaml:    "mounts:\n  - /data\n  - cache\n",
	err:     `smith.yaml:3:5: mounts[1]: "cache" is not an absolute path`,
}, {
	summary: "bad glob",
	yaml:    "package: a\npaths: [/a, \"[a-\"]\n",
	err:     `smith.yaml:2:13: paths[1]: malformed glob "[a-": syntax error in pattern`,
}, {
	summary: "bad glob index counts skipped empty items",
	yaml:    "excludes: [\"\", \"a\\\\\"]\n",
	err:     `smith.yaml:1:16: excludes[1]: malformed glob "a\\": syntax error in pattern`,
}, {
	summary: "env without equals",
	yaml:    "env: [A=1, FOO]\n",
	err:     `smith.yaml:1:12: env[1]: "FOO" is not NAME=VALUE`,
}, {
	summary: "env empty name",
	yaml:    "env: [=x]\n",
	err:     `smith.yaml:1:7: env[0]: "=x" has an empty name`,
}, {
	summary: "env string",
	yaml:    "env: A=1\n",
	err:     `smith.yaml:1:6: env: expected a list of NAME=VALUE strings or a mapping, got a string`,
}, {
	summary: "env map value is a list",
	yaml:    "env:\n  A: [1]\n",
	err:     `smith.yaml:2:6: env.A: expected a string, got a list`,
}, {
	summary: "labels list",
	yaml:    "labels: [a=b]\n",
	err:     `smith.yaml:1:9: labels: expected a mapping of strings, got a list`,
}, {
	summary: "label value mapping",
	yaml:    "labels:\n  a: {b: c}\n",
	err:     `smith.yaml:2:6: labels.a: expected a string, got a mapping`,
}, {
	summary: "paths without package",
	yaml:    "user: x\npaths: [/a]\n",
	err:     `smith.yaml:2:1: paths: needs a package to copy from`,
}, {
	summary: "paths with empty package",
	yaml:    "package: \"\"\npaths: [/a]\n",
	err:     `smith.yaml:2:1: paths: needs a package to copy from`,
}, {
	summary: "non-mapping document",
	yaml:    "# syntax=x\n- package: a\n",
	err:     `smith.yaml:2:1: expected a mapping at the top level, got a list`,
}, {
	summary: "scalar document",
	yaml:    "hello\n",
	err:     `smith.yaml:1:1: expected a mapping at the top level, got a string`,
}, {
	summary: "two documents",
	yaml:    "package: a\n---\npackage: b\n",
	err:     `smith.yaml:3:1: only one YAML document is allowed`,
}, {
	summary: "YAML syntax error",
	yaml:    "package: a\npaths: [/a\nuser: x\n",
	err:     `smith.yaml:2: invalid YAML: did not find expected ',' or ']'`,
}, {
	summary: "non-scalar key",
	yaml:    "? [a]\n: b\n",
	err:     `smith.yaml:1:3: expected a string key, got a list`,
}, {
	summary: "anchor on an unknown key",
	yaml:    "base: &b {user: x}\n",
	err:     `smith.yaml:1:1: unknown key "base"`,
}, {
	summary: "merge key is rejected",
	yaml:    "mock:\n  <<: {deps: [a]}\n",
	err:     `smith.yaml:2:3: mock: merge keys (<<) are not supported`,
}}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorTests {
		t.Run(tt.summary, func(t *testing.T) {
			f, err := Parse("smith.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want error %q", f, tt.err)
			}
			if f != nil {
				t.Errorf("Parse returned a File with an error")
			}
			if err.Error() != tt.err {
				t.Errorf("error:\n got  %s\n want %s", err, tt.err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *Error", err, err)
			}
			if e.Pos.IsZero() {
				t.Errorf("error %v has no position", err)
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

func TestParseYAMLSyntaxLines(t *testing.T) {
	tests := []struct{ yaml, err string }{
		{"package: a\npaths: [/a\nuser: x\n", `smith.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		{"paths: [/a\n", `smith.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		{"package: a\nuser: x: y\n", `smith.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		{"package: a\n  user: x\n", `smith.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		{"mock:\n  deps: [a]\n bad: 1\n", `smith.yaml:3: invalid YAML: did not find expected key`},
		{"package: a\n\tuser: x\n", `smith.yaml:2: invalid YAML: found a tab character that violates indentation`},
	}
	for _, tt := range tests {
		_, err := Parse("smith.yaml", []byte(tt.yaml))
		if err == nil || err.Error() != tt.err {
			t.Errorf("Parse(%q):\n got  %v\n want %s", tt.yaml, err, tt.err)
		}
	}
}

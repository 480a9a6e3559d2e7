package frontend

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"

	"github.com/smithbuild/smith/config"
)

func TestSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct {
		args map[string]string
		want int64
		err  bool
	}{
		{args: nil, want: 0},
		{args: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, want: 1700000000},
		{args: map[string]string{"SOURCE_DATE_EPOCH": ""}, want: 0},
		{args: map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, err: true},
		{args: map[string]string{"SOURCE_DATE_EPOCH": "-5"}, err: true},
	} {
		got, err := sourceDateEpoch(tc.args)
		if tc.err {
			if err == nil {
				t.Errorf("%v: no error", tc.args)
			}
			continue
		}
		if err != nil || !got.Equal(time.Unix(tc.want, 0)) {
			t.Errorf("%v: got %v, %v; want Unix %d", tc.args, got, err, tc.want)
		}
	}
}

// TestWithSource: a config.Error gets its smith.yaml range attached, once;
// other errors pass through.
func TestWithSource(t *testing.T) {
	sm := llb.NewSourceMap(nil, "smith.yaml", "YAML", []byte("paths: x\n"))
	ce := &config.Error{File: "smith.yaml", Pos: config.Pos{Line: 1, Col: 8}, Field: "paths", Msg: "expected a list"}
	err := withSource(fmt.Errorf("wrapped: %w", ce), sm)
	srcs := errdefs.Sources(err)
	if len(srcs) != 1 || srcs[0].Ranges[0].Start.Line != 1 || srcs[0].Ranges[0].Start.Character != 8 || srcs[0].Info.Filename != "smith.yaml" {
		t.Fatalf("sources = %+v", srcs)
	}
	if again := withSource(err, sm); len(errdefs.Sources(again)) != 1 {
		t.Error("a second withSource added another source")
	}
	plain := errors.New("plain")
	if got := withSource(plain, sm); got != plain {
		t.Errorf("a non-config error changed: %v", got)
	}
	if got := withSource(ce, nil); got != error(ce) {
		t.Errorf("no source map: %v", got)
	}
}

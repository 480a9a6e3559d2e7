package closure

import (
	"encoding/json"
	"testing"
)

func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		o          Origin
		text, what string
	}{
		{Origin{File: "smith.yaml", Line: 5, Col: 3, Field: "paths", Index: 0}, "smith.yaml:5:3: paths[0]", "paths[0]"},
		{Origin{File: "smith.yaml", Field: "probe", Index: 2}, "smith.yaml: probe[2]", "probe[2]"},
		{Origin{File: "rootfs/usr/bin/app"}, "rootfs/usr/bin/app", "rootfs/usr/bin/app"},
		{Origin{Field: "excludes"}, "excludes[0]", "excludes[0]"},
		{Origin{}, "", "paths[7]"},
	} {
		if got := tc.o.String(); got != tc.text {
			t.Errorf("%+v.String() = %q, want %q", tc.o, got, tc.text)
		}
		if got := tc.o.what("paths[7]"); got != tc.what {
			t.Errorf("%+v.what() = %q, want %q", tc.o, got, tc.what)
		}
		b, err := json.Marshal(tc.o)
		var back Origin
		if err == nil {
			err = json.Unmarshal(b, &back)
		}
		if err != nil || back != tc.o {
			t.Errorf("%+v: JSON round trip gave %+v, %v", tc.o, back, err)
		}
	}
}

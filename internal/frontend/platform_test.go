package frontend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/pkgdb"
)

const ociYAML = "package: debian/x:1\npaths: [/usr/bin/cat]\n"

// ociFake knows the image of ociYAML and a package manifest.
func ociFake(m pkgdb.Manifest) *fakeResolver {
	r := newFake()
	r.images["docker.io/debian/x:1"] = fakeImage{digest: testDigest("x")}
	r.outputs[llbgen.ManifestFile] = mustJSON(m)
	return r
}

// TestPlatform: one platform's image is solved with the client's cache
// sources; its result carries the image config and the epoch.
func TestPlatform(t *testing.T) {
	r := ociFake(pkgdb.Manifest{})
	o := testOptions()
	o.BuildArgs = map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	o.Labels = map[string]string{"team": "a"}
	o.CacheImports = []client.CacheOptionsEntry{{Type: "registry"}}
	b := prepared(t, r, ociYAML, o)
	res, atts, err := b.platform(context.Background(), amd64)
	if err != nil {
		t.Fatal(err)
	}
	if res.Epoch == nil || res.Epoch.Unix() != 1700000000 || res.Reference == nil {
		t.Errorf("result %+v", res)
	}
	if res.Image.Created == nil || !res.Image.Created.Equal(time.Unix(1700000000, 0)) || res.Image.Config.Labels["team"] != "a" ||
		res.Image.Config.Labels[llbgen.LabelVersion] != Version || res.Image.Architecture != "amd64" {
		t.Errorf("image config %+v", res.Image)
	}
	if len(atts) != 0 {
		t.Errorf("an image without packages got attestations: %+v", atts)
	}
	// The image, then its package manifest.
	if len(r.solves) != 2 {
		t.Fatalf("%d solves", len(r.solves))
	}
	for _, s := range r.solves {
		if len(s.CacheImports) != 1 || s.Evaluate {
			t.Errorf("solve with cache %v, evaluate %v", s.CacheImports, s.Evaluate)
		}
	}
	if ops := opList(t, r.solves[0].Definition); !hasOp(ops, "exec /smith-frontend trace") {
		t.Errorf("the first solve is not the image:\n%s", strings.Join(ops, "\n"))
	}
}

// TestPlatforms: each target platform pulls its own images; an RPM
// installer runs natively unless smith.yaml asks for emulation.
func TestPlatforms(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		resolved   []string
	}{
		{name: "image", yaml: ociYAML, resolved: []string{"docker.io/debian/x:1 amd64", "docker.io/debian/x:1 arm64"}},
		{name: "native installer", yaml: rpmYAML,
			resolved: []string{"docker.io/library/oraclelinux:9 amd64", "docker.io/library/oraclelinux:9 amd64"}},
		{name: "emulated installer", yaml: rpmYAML + "emulate: true\n",
			resolved: []string{"docker.io/library/oraclelinux:9 amd64", "docker.io/library/oraclelinux:9 arm64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ociFake(pkgdb.Manifest{})
			b := prepared(t, r, tc.yaml, testOptions())
			for _, p := range []string{"amd64", "arm64"} {
				target := amd64
				target.Architecture = p
				res, _, err := b.platform(context.Background(), target)
				if err != nil {
					t.Fatal(err)
				}
				if res.Image.Architecture != p {
					t.Errorf("%s: image config says %s", p, res.Image.Architecture)
				}
			}
			if !slices.Equal(r.resolved, tc.resolved) {
				t.Errorf("resolved %q, want %q", r.resolved, tc.resolved)
			}
		})
	}
}

// TestProbes: smith.yaml's probes are solved after the image, each in a
// solve of its own (so a failing one cancels no other), evaluated.
func TestProbes(t *testing.T) {
	for _, tc := range []struct {
		probes string
		want   []string // the probe step of each probe solve, in any order
	}{
		{probes: "probe: [[/usr/bin/cat, /etc/os-release]]\n", want: []string{"[smith] probe /usr/bin/cat /etc/os-release"}},
		{probes: "probe: [[/usr/bin/cat, /a], [/usr/bin/cat, /b]]\n", want: []string{"[smith] probe /usr/bin/cat /a", "[smith] probe /usr/bin/cat /b"}},
	} {
		r := ociFake(pkgdb.Manifest{})
		b := prepared(t, r, ociYAML+tc.probes, testOptions())
		if _, _, err := b.platform(context.Background(), amd64); err != nil {
			t.Fatal(err)
		}
		n := len(tc.want)
		if len(r.solves) != 2+n {
			t.Fatalf("%d solves, want the image, %d probes and the manifest", len(r.solves), n)
		}
		var got []string
		for _, s := range r.solves[1 : 1+n] {
			if !s.Evaluate {
				t.Errorf("a probe solve is not evaluated")
			}
			ops := opList(t, s.Definition)
			if hasOp(ops, "merge [[smith] probes]") {
				t.Errorf("probes merged into one solve:\n%s", strings.Join(ops, "\n"))
			}
			for _, w := range tc.want {
				if slices.ContainsFunc(ops, func(op string) bool { return strings.HasSuffix(op, " ["+w+"]") }) {
					got = append(got, w)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("probe solves run %q, want %q", got, tc.want)
		}
	}
}

// TestAttestations: the package manifest goes beside every RPM image and
// every image with packages; --sbom adds smith's SPDX document, stamped
// with the epoch.
func TestAttestations(t *testing.T) {
	pkgs := pkgdb.Manifest{Packages: []pkgdb.Package{{Name: "coreutils", Version: "9.1", Type: "deb"}}}
	for _, tc := range []struct {
		name, yaml string
		m          pkgdb.Manifest
		sbom       bool
		want       []string // predicate types
	}{
		{name: "image without packages", yaml: ociYAML},
		{name: "image with packages", yaml: ociYAML, m: pkgs, want: []string{pkgdb.PredicateType}},
		{name: "RPM image", yaml: rpmYAML, want: []string{pkgdb.PredicateType}},
		{name: "SBOM", yaml: ociYAML, m: pkgs, sbom: true, want: []string{pkgdb.PredicateType, intoto.PredicateSPDX}},
		{name: "SBOM without packages", yaml: ociYAML, sbom: true, want: []string{intoto.PredicateSPDX}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ociFake(tc.m)
			o := testOptions()
			o.SBOM = tc.sbom
			o.BuildArgs = map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
			b := prepared(t, r, tc.yaml, o)
			_, atts, err := b.platform(context.Background(), amd64)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range atts {
				got = append(got, a.InToto.PredicateType)
				if a.Ref == nil {
					t.Errorf("%s: no ref", a.Path)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("attestations %q, want %q", got, tc.want)
			}
			if !tc.sbom {
				return
			}
			sbom := atts[len(atts)-1]
			if sbom.Path != sbomFile || string(sbom.Metadata[result.AttestationReasonKey]) != result.AttestationReasonSBOM {
				t.Errorf("SBOM attestation %+v", sbom)
			}
			doc := string(mkfileData(t, r.solves[len(r.solves)-1].Definition, sbomFile))
			for _, want := range []string{"Tool: smith-" + Version, "2023-11-14T22:13:20Z", "docker.io/debian/x@" + testDigest("x").String()} {
				if !strings.Contains(doc, want) {
					t.Errorf("SBOM lacks %s:\n%s", want, doc)
				}
			}
		})
	}
}

// TestPlatformErrors: failures after generation pass through unchanged.
func TestPlatformErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		prep func(r *fakeResolver)
		err  string
	}{
		{name: "solve", prep: func(r *fakeResolver) { r.solveErr = errors.New("exit code 1") }, err: "exit code 1"},
		{name: "no manifest", prep: func(r *fakeResolver) { delete(r.outputs, llbgen.ManifestFile) }, err: "reading the package manifest: "},
		{name: "bad manifest", prep: func(r *fakeResolver) { r.outputs[llbgen.ManifestFile] = []byte("[") }, err: "decoding the package manifest: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ociFake(pkgdb.Manifest{})
			b := prepared(t, r, ociYAML, testOptions())
			tc.prep(r)
			if _, _, err := b.platform(context.Background(), amd64); err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Fatalf("err = %v, want prefix %q", err, tc.err)
			}
		})
	}
}

// TestHelper: the smith-helper named context wins over the frontend image;
// without either the build says what to pass.
func TestHelper(t *testing.T) {
	r := ociFake(pkgdb.Manifest{})
	r.contexts = map[string]fakeImage{HelperContext: {}}
	b := prepared(t, r, ociYAML, testOptions())
	if ops := stateOps(t, b.helper, amd64); !hasOp(ops, "source docker-image://ctx.test/smith-helper") {
		t.Errorf("helper %v", ops)
	}

	r = ociFake(pkgdb.Manifest{})
	r.frontend = nil
	b, err := newBuild(context.Background(), r, source(ociYAML, nil), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.prepare(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "cannot find the smith helper: the frontend is not running from an image; pass the directory holding the smith-frontend binary as the build context smith-helper") {
		t.Errorf("err = %v", err)
	}

	r.contexts = map[string]fakeImage{HelperContext: {err: errors.New("bad helper")}}
	if err := b.prepare(context.Background()); err == nil || err.Error() != "bad helper" {
		t.Errorf("err = %v", err)
	}
}

// TestCurrentFrontendError: a gateway that cannot say which image it runs
// from fails the build with the reason.
func TestCurrentFrontendError(t *testing.T) {
	b, err := newBuild(context.Background(), failingFrontend{newFake()}, source(ociYAML, nil), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.prepare(context.Background()); err == nil || err.Error() != "locating the frontend image to run the smith helper from: no metadata" {
		t.Errorf("err = %v", err)
	}
}

type failingFrontend struct{ *fakeResolver }

func (failingFrontend) CurrentFrontend() (*llb.State, error) { return nil, errors.New("no metadata") }

// TestProbesNotRunnable: on a builder that cannot run the target platform
// (no emulation), probes are not run, and each says so at its line; a
// platform the builder runs (linux/386 on linux/amd64) is probed.
func TestProbesNotRunnable(t *testing.T) {
	arm64 := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	i386 := ocispecs.Platform{OS: "linux", Architecture: "386"}
	const yaml = ociYAML + "probe:\n- [/usr/bin/cat, /a]\n- [/usr/bin/cat, /b]\n"
	for _, tc := range []struct {
		target ocispecs.Platform
		probed bool
	}{{arm64, false}, {i386, true}, {amd64, true}, {ocispecs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false}} {
		r := ociFake(pkgdb.Manifest{})
		var warned []string
		o := testOptions()
		o.Runnable = []ocispecs.Platform{amd64}
		if tc.target.Architecture == "arm" {
			o.Runnable = []ocispecs.Platform{arm64} // an arm64 builder without 32-bit arm
		}
		o.TargetPlatforms = []ocispecs.Platform{tc.target}
		b, err := newBuild(context.Background(), r, source(yaml, &warned), o)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.platform(context.Background(), tc.target); err != nil {
			t.Fatal(err)
		}
		probes := 0
		for _, s := range r.solves {
			if slices.ContainsFunc(opList(t, s.Definition), func(op string) bool { return strings.Contains(op, "[smith] probe ") }) {
				probes++
			}
		}
		if tc.probed {
			if probes != 2 || len(warned) != 0 {
				t.Errorf("%s: %d probe solves, warnings %q", tc.target.Architecture, probes, warned)
			}
			continue
		}
		want := []string{"probe: not run for linux/arm64: the builder cannot run that platform (it runs linux/amd64; emulation, such as binfmt_misc with QEMU, would), so its image is not probed (line 4) (line 5)"}
		if tc.target.Architecture == "arm" {
			want = []string{"probe: not run for linux/arm/v7: the builder cannot run that platform (it runs linux/arm64; emulation, such as binfmt_misc with QEMU, would), so its image is not probed (line 4) (line 5)"}
		}
		if probes != 0 || !slices.Equal(warned, want) {
			t.Errorf("%s: %d probe solves, warnings %q, want %q", tc.target.Architecture, probes, warned, want)
		}
	}
}

// TestWarningsAsOne: smith.yaml's warnings reach BuildKit as one (it can
// drop a second one sent to the same step), with every range.
func TestWarningsAsOne(t *testing.T) {
	const yaml = "package: https://u:p@debian/x:1\npaths: [/usr/bin/cat]\nprobe: [[/usr/bin/cat, /a]]\n"
	var warned []string
	o := testOptions()
	o.Runnable, o.TargetPlatforms = []ocispecs.Platform{amd64}, []ocispecs.Platform{{OS: "linux", Architecture: "arm64"}}
	if _, err := newBuild(context.Background(), ociFake(pkgdb.Manifest{}), source(yaml, &warned), o); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.HasPrefix(warned[0], "package: credentials in the image URL are ignored") ||
		!strings.Contains(warned[0], "; probe: not run for linux/arm64") || !strings.HasSuffix(warned[0], "(line 1) (line 3)") {
		t.Errorf("warnings %q", warned)
	}
}

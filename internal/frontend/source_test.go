package frontend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/internal/llbgen"
	"github.com/smithbuild/smith/internal/pkgdb"
	"github.com/smithbuild/smith/internal/protocol"
)

func withConfig(c dockerspec.DockerOCIImageConfig) dockerspec.DockerOCIImage {
	var img dockerspec.DockerOCIImage
	img.Config = c
	return img
}

func imageConfig(entrypoint ...string) dockerspec.DockerOCIImage {
	return withConfig(dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{Entrypoint: entrypoint}})
}

// archiveInspect is what the archive helper step reports.
func archiveInspect(layers int, entrypoint ...string) []byte {
	b, err := protocol.EncodeImage(protocol.Image{Config: mustJSON(imageConfig(entrypoint...)), Layers: layers})
	if err != nil {
		panic(err)
	}
	return b
}

// TestSources: each kind of image smith.yaml names (registry image, named
// context, archive in the build context, RPM installer, parent) is loaded
// through the resolver, recorded as a source, and its config inherited.
func TestSources(t *testing.T) {
	debian := testDigest("debian")
	base := testDigest("base")
	for _, tc := range []struct {
		name, yaml string
		setup      func(r *fakeResolver, o *options)
		// ops are prefixes of op lines the image's LLB must have.
		ops        []string
		sources    []pkgdb.Source
		resolved   []string
		entrypoint string // the image config's, inherited
		err        string
		line       int32
	}{{
		name: "registry image",
		yaml: "package: docker.io/library/debian:12\npaths: [/usr/bin/cat]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["docker.io/library/debian:12"] = fakeImage{digest: debian, config: imageConfig("/from-debian")}
		},
		ops:        []string{"source docker-image://docker.io/library/debian@" + debian.String() + " [[smith] pull docker.io/library/debian:12]"},
		sources:    []pkgdb.Source{{Kind: "image", Name: "docker.io/library/debian@" + debian.String()}},
		resolved:   []string{"docker.io/library/debian:12 amd64"},
		entrypoint: "/from-debian",
	}, {
		name: "short reference, no digest from the registry",
		yaml: "package: debian/x\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["docker.io/debian/x:latest"] = fakeImage{}
		},
		ops:      []string{"source docker-image://docker.io/debian/x:latest"},
		sources:  []pkgdb.Source{{Kind: "image", Name: "docker.io/debian/x:latest"}},
		resolved: []string{"docker.io/debian/x:latest amd64"},
	}, {
		name: "smith's URL form",
		yaml: "package: https://u:p@registry-1.docker.io/library/debian:12\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["docker.io/library/debian:12"] = fakeImage{digest: debian}
		},
		ops:      []string{"source docker-image://docker.io/library/debian@" + debian.String()},
		resolved: []string{"docker.io/library/debian:12 amd64"},
	}, {
		name: "registry failure",
		yaml: "package: docker.io/library/debian:12\npaths: [/a]\n",
		err:  "smith.yaml:1:10: package: resolving image docker.io/library/debian:12: docker.io/library/debian:12: not found", line: 1,
	}, {
		name: "undecodable image config",
		yaml: "package: registry.test/x:1\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["registry.test/x:1"] = fakeImage{raw: []byte("{")}
		},
		err: "smith.yaml:1:10: package: decoding the config of image registry.test/x:1: ", line: 1,
	}, {
		name: "named context",
		yaml: "type: oci\npackage: base\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.contexts = map[string]fakeImage{"base": {config: imageConfig("/from-context")}}
		},
		ops:        []string{"source docker-image://ctx.test/base:latest"},
		sources:    []pkgdb.Source{{Kind: "image", Name: "build context base"}},
		entrypoint: "/from-context",
	}, {
		name: "named context fails",
		yaml: "type: oci\npackage: base\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.contexts = map[string]fakeImage{"base": {err: errors.New("no such context")}}
		},
		err: "smith.yaml:2:10: package: no such context", line: 2,
	}, {
		name: "archive in the build context",
		yaml: "package: img.tar\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.outputs[llbgen.ArchiveInspectFile] = archiveInspect(2, "/from-archive")
		},
		ops:        []string{"source local://context [[smith] load img.tar from the build context]"},
		sources:    []pkgdb.Source{{Kind: "image", Name: "build context file img.tar"}},
		entrypoint: "/from-archive",
	}, {
		name: "archive over the layer limit",
		yaml: "package: img.tar\npaths: [/a]\n",
		setup: func(r *fakeResolver, o *options) {
			r.outputs[llbgen.ArchiveInspectFile] = archiveInspect(3)
			o.BuildArgs = map[string]string{"SMITH_MAX_LAYERS": "2"}
		},
		err: "smith.yaml:1:10: package: img.tar has 3 layers; the limit is 2 (raise it with --build-arg SMITH_MAX_LAYERS=N)", line: 1,
	}, {
		name: "archive not readable",
		yaml: "package: img.tar\npaths: [/a]\n",
		err:  "smith.yaml:1:10: package: reading what the archive holds: ", line: 1,
	}, {
		name: "archive config not decodable",
		yaml: "package: img.tar\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.outputs[llbgen.ArchiveInspectFile] = []byte("{")
		},
		err: "smith.yaml:1:10: package: decoding the archive's image config: ", line: 1,
	}, {
		name: "archive solve fails",
		yaml: "package: img.tar\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.solveErr = errors.New("no space left")
		},
		err: "smith.yaml:1:10: package: no space left", line: 1,
	}, {
		name: "RPM install",
		yaml: "package: httpd\nrepos: [{name: a, baseurl: 'http://repo.test/el9/', gpgcheck: false}]\npaths: [/usr/sbin/httpd]\n",
		ops:  []string{"source docker-image://docker.io/library/oraclelinux@" + testDigest("oraclelinux").String()},
		sources: []pkgdb.Source{
			{Kind: "installer", Name: "docker.io/library/oraclelinux@" + testDigest("oraclelinux").String()},
			{Kind: "repository", Name: "http://repo.test/el9/"},
		},
		resolved: []string{"docker.io/library/oraclelinux:9 amd64"},
	}, {
		name: "RPM install from local RPMs",
		yaml: "package: [./rpms/a.rpm]\ninstaller_repos: false\nlocalpkg_gpgcheck: false\npaths: [/a]\n",
		ops:  []string{"source local://context [[smith] load RPMs, repositories and keys from the build context]"},
	}, {
		name: "installer from smith.yaml",
		yaml: "package: httpd\ninstaller: registry.test/fedora:40\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["registry.test/fedora:40"] = fakeImage{digest: base}
		},
		sources:  []pkgdb.Source{{Kind: "installer", Name: "registry.test/fedora@" + base.String()}},
		resolved: []string{"registry.test/fedora:40 amd64"},
	}, {
		name: "installer named context",
		yaml: "package: httpd\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.contexts = map[string]fakeImage{llbgen.InstallerContext: {}}
		},
		ops:     []string{"source docker-image://ctx.test/installer:latest"},
		sources: []pkgdb.Source{{Kind: "installer", Name: "build context installer"}},
	}, {
		name: "installer named context fails",
		yaml: "package: httpd\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.contexts = map[string]fakeImage{llbgen.InstallerContext: {err: errors.New("bad context")}}
		},
		err: "bad context",
	}, {
		name: "default installer fails",
		yaml: "package: httpd\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			delete(r.images, "docker.io/library/oraclelinux:9")
		},
		// The default installer has no line of its own: it points at package.
		err: "smith.yaml:1:10: installer: resolving image docker.io/library/oraclelinux:9", line: 1,
	}, {
		name: "parent image",
		yaml: "package: debian/x:1\nparent: base:1\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["docker.io/debian/x:1"] = fakeImage{}
			r.images["docker.io/library/base:1"] = fakeImage{digest: base, config: imageConfig("/from-parent")}
		},
		ops: []string{"source docker-image://docker.io/library/base@" + base.String() + " [[smith] pull docker.io/library/base:1]"},
		sources: []pkgdb.Source{
			{Kind: "image", Name: "docker.io/debian/x:1"},
			{Kind: "parent", Name: "docker.io/library/base@" + base.String()},
		},
		resolved:   []string{"docker.io/debian/x:1 amd64", "docker.io/library/base:1 amd64"},
		entrypoint: "/from-parent",
	}, {
		name: "parent archive, layer by layer",
		yaml: "package: debian/x:1\nparent: base.tar.gz\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["docker.io/debian/x:1"] = fakeImage{}
			r.outputs[llbgen.ArchiveInspectFile] = archiveInspect(2, "/from-parent-archive")
		},
		ops:        []string{"source local://context [[smith] load base.tar.gz from the build context]", "merge"},
		sources:    []pkgdb.Source{{Kind: "image", Name: "docker.io/debian/x:1"}, {Kind: "parent", Name: "build context file base.tar.gz"}},
		entrypoint: "/from-parent-archive",
	}, {
		name: "parent fails",
		yaml: "package: debian/x:1\nparent: base:1\npaths: [/a]\n",
		setup: func(r *fakeResolver, _ *options) {
			r.images["docker.io/debian/x:1"] = fakeImage{}
		},
		err: "smith.yaml:2:9: parent: resolving image docker.io/library/base:1", line: 2,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			o := testOptions()
			if tc.setup != nil {
				tc.setup(r, &o)
			}
			b := prepared(t, r, tc.yaml, o)
			gen, sources, err := b.generate(context.Background(), amd64)
			if checkErr(t, err, tc.err, tc.line) {
				return
			}
			checkOps(t, gen.State, amd64, tc.ops...)
			if tc.sources != nil && !slices.Equal(sources, tc.sources) {
				t.Errorf("sources = %+v, want %+v", sources, tc.sources)
			}
			if tc.resolved != nil && !slices.Equal(r.resolved, tc.resolved) {
				t.Errorf("resolved %q, want %q", r.resolved, tc.resolved)
			}
			if got := strings.Join(gen.Image.Config.Entrypoint, " "); got != tc.entrypoint {
				t.Errorf("entrypoint %q, want %q", got, tc.entrypoint)
			}
		})
	}
}

package imagearchive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// threeLayers is a gzip, an uncompressed and a zstd layer with whiteouts,
// an opaque whiteout, a hard link, symlinks and a device.
func threeLayers(t *testing.T) []testLayer {
	suid := ent{name: "usr/bin/prog", body: "#!prog", typ: tar.TypeReg, mode: 0o4755}
	owned := ent{name: "etc/a", body: "A", typ: tar.TypeReg, mode: 0o640, uid: 1000, gid: 1001, mtime: time.Unix(1e9, 0)}
	l0 := makeTar(t,
		dir("etc/"), owned, file("etc/gone", "G"), hardlink("etc/hard", "etc/a"),
		symlink("etc/abs", "/usr/bin/prog"), symlink("lib", "usr/lib"),
		dir("o/"), file("o/old", "O"), dir("o/sub/"), file("o/sub/deep", "D"),
		suid, // no usr/ nor usr/bin/ entries: parents are created
		ent{name: "dev/null", typ: tar.TypeChar},
		ent{name: "fifo", typ: tar.TypeFifo},
	)
	l1 := makeTar(t,
		file("etc/.wh.gone", ""),
		file("etc/a", "A2"),
		file("o/new", "N"), // before the opaque marker: kept
		file("o/.wh..wh..opq", ""),
		dir("o/sub/"),
		file("o/later", "L"), // after it: kept too
	)
	l2 := makeTar(t,
		file(".wh.usr", ""),
		file("o/sub/fresh", "F"),
		file("./etc/dot", "dot"),
		ent{name: "d/", typ: tar.TypeDir, mode: 0o750, mtime: time.Unix(5e8, 0)},
		file(".wh.nothing-there", ""),
		file("missing/.wh.x", ""),
	)
	return []testLayer{{l0, "gzip"}, {l1, ""}, {l2, "zstd"}}
}

func TestOCILayoutLayers(t *testing.T) {
	for _, outer := range []string{"tar", "tar.gz", "zstd"} {
		t.Run(outer, func(t *testing.T) {
			l := newLayout(t)
			l.add(l.image("amd64", "", "/prog", threeLayers(t)...), "latest")
			b := l.tar()
			switch outer {
			case "tar.gz":
				b = gz(t, b)
			case "zstd":
				b = zst(t, b)
			}
			a := openBytes(t, b, "image."+outer)
			if a.Format() != OCI {
				t.Fatalf("format %q", a.Format())
			}
			img, err := a.Image("", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(img.Layers) != 3 || img.Platform.Architecture != "amd64" {
				t.Fatalf("got %d layers, platform %+v", len(img.Layers), img.Platform)
			}
			root, dir := newRoot(t)
			var log bytes.Buffer
			if err := img.ApplyLayer(0, root, &log); err != nil {
				t.Fatal(err)
			}
			// After layer 0: hard link, ownership, modes, mtimes.
			a1, _ := os.Stat(filepath.Join(dir, "etc/a"))
			h1, _ := os.Stat(filepath.Join(dir, "etc/hard"))
			if !os.SameFile(a1, h1) {
				t.Error("etc/hard is not a hard link of etc/a")
			}
			st := a1.Sys().(*syscall.Stat_t)
			if st.Uid != 1000 || st.Gid != 1001 || a1.Mode().Perm() != 0o640 || !a1.ModTime().Equal(time.Unix(1e9, 0)) {
				t.Errorf("etc/a: uid %d gid %d mode %v mtime %v", st.Uid, st.Gid, a1.Mode(), a1.ModTime())
			}
			p, _ := os.Stat(filepath.Join(dir, "usr/bin/prog"))
			if p.Mode()&os.ModeSetuid == 0 || p.Mode().Perm() != 0o755 {
				t.Errorf("usr/bin/prog mode %v, want setuid 0755", p.Mode())
			}
			if fi, err := os.Lstat(filepath.Join(dir, "etc/abs")); err != nil || !fi.ModTime().Equal(testTime) {
				t.Errorf("etc/abs symlink mtime: %v %v", fi, err)
			}
			if !strings.Contains(log.String(), `skipping character device "dev/null"`) || !strings.Contains(log.String(), `skipping FIFO "fifo"`) {
				t.Errorf("log: %s", log.String())
			}
			for k := 1; k < 3; k++ {
				if err := img.ApplyLayer(k, root, &log); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{
				"d/",
				"etc/",
				`etc/a "A2"`,
				"etc/abs -> /usr/bin/prog",
				`etc/dot "dot"`,
				`etc/hard "A"`,
				"lib -> usr/lib",
				"o/",
				`o/later "L"`,
				`o/new "N"`,
				"o/sub/",
				`o/sub/fresh "F"`,
			}
			if got := listTree(t, dir); !slices.Equal(got, want) {
				t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			d, _ := os.Stat(filepath.Join(dir, "d"))
			if d.Mode().Perm() != 0o750 || !d.ModTime().Equal(time.Unix(5e8, 0)) {
				t.Errorf("d: mode %v mtime %v", d.Mode(), d.ModTime())
			}
		})
	}
}

func TestTagSelection(t *testing.T) {
	one := testLayer{tar: makeTar(t, file("x", "x"))}
	l := newLayout(t)
	l.add(l.image("amd64", "", "/one", one), "1.0")
	l.add(l.image("amd64", "", "/latest", one), "latest")
	named := l.image("amd64", "", "/named", one)
	named.Annotations = map[string]string{annotationContainerdName: "docker.io/library/app:2.0"}
	l.index.Manifests = append(l.index.Manifests, named)
	a := openBytes(t, l.tar(), "image.tar")

	for tag, cmd := range map[string]string{"": "/latest", "latest": "/latest", "1.0": "/one", "2.0": "/named", "app:2.0": "/named", "docker.io/library/app:2.0": "/named"} {
		img, err := a.Image(tag, nil)
		if err != nil {
			t.Errorf("tag %q: %v", tag, err)
			continue
		}
		if !strings.Contains(string(img.Config), `"Cmd":["`+cmd+`"]`) {
			t.Errorf("tag %q: config %s", tag, img.Config)
		}
	}
	_, err := a.Image("nope", nil)
	if err == nil || err.Error() != `image.tar: no image tagged "nope" (available: 1.0; docker.io/library/app:2.0; latest)` {
		t.Errorf("unknown tag: %v", err)
	}

	// No tag, several images, none "latest".
	l = newLayout(t)
	l.add(l.image("amd64", "", "/a", one), "a")
	l.add(l.image("amd64", "", "/b", one), "b")
	_, err = openBytes(t, l.tar(), "two.tar").Image("", nil)
	if err == nil || !strings.Contains(err.Error(), "two.tar holds several images (a; b): name one as two.tar:TAG") {
		t.Errorf("ambiguous: %v", err)
	}

	// One image without a name: no tag needed.
	l = newLayout(t)
	l.add(l.image("amd64", "", "/only", one), "")
	if _, err := openBytes(t, l.tar(), "one.tar").Image("", nil); err != nil {
		t.Error(err)
	}
}

func TestPlatformSelection(t *testing.T) {
	one := testLayer{tar: makeTar(t, file("x", "x"))}
	l := newLayout(t)
	amd := l.image("amd64", "", "/amd64", one)
	arm := l.image("arm64", "v8", "/arm64", one)
	att := l.json(ocispec.MediaTypeImageManifest, ocispec.Manifest{})
	att.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	att.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest"}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd, arm, att}}
	idx.SchemaVersion = 2
	l.add(l.json(ocispec.MediaTypeImageIndex, idx), "latest")
	a := openBytes(t, l.tar(), "multi.tar")

	for plat, cmd := range map[string]string{"arm64": "/arm64", "amd64": "/amd64"} {
		img, err := a.Image("latest", &ocispec.Platform{OS: "linux", Architecture: plat})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(img.Config), cmd) || img.Platform.Architecture != plat {
			t.Errorf("%s: got %s", plat, img.Config)
		}
	}
	_, err := a.Image("", &ocispec.Platform{OS: "linux", Architecture: "s390x"})
	if err == nil || err.Error() != "multi.tar: no image for platform linux/s390x (available: linux/amd64, linux/arm64/v8)" {
		t.Errorf("s390x: %v", err)
	}

	// Platform manifests listed directly in index.json, without names.
	l2 := newLayout(t)
	l2.add(l2.image("amd64", "", "/amd64", one), "")
	l2.add(l2.image("arm64", "v8", "/arm64", one), "")
	img, err := openBytes(t, l2.tar(), "flat.tar").Image("", &ocispec.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil || !strings.Contains(string(img.Config), "/arm64") {
		t.Errorf("flat index: %v", err)
	}
}

// dockerSave builds a legacy docker save archive with two images.
func dockerSave(t *testing.T, tamper bool) []byte {
	var ents []ent
	var manifest []dockerEntry
	for i, img := range []struct {
		tags []string
		body string
	}{{[]string{"app:1.0", "registry.example/app:latest"}, "app"}, {[]string{"other:2"}, "other"}} {
		ly := makeTar(t, file("etc/name", img.body))
		cfg := configJSON("amd64", "", "/"+img.body, []digest.Digest{digest.FromBytes(ly)})
		cfgName := digest.FromBytes(cfg).Encoded() + ".json"
		layerName := strings.Repeat(string(rune('a'+i)), 64) + "/layer.tar"
		if tamper {
			ly = makeTar(t, file("etc/name", "evil"))
		}
		ents = append(ents, file(cfgName, string(cfg)), dir(filepath.Dir(layerName)+"/"), file(layerName, string(ly)))
		manifest = append(manifest, dockerEntry{Config: cfgName, RepoTags: img.tags, Layers: []string{layerName}})
	}
	mj, _ := json.Marshal(manifest)
	ents = append(ents, file("manifest.json", string(mj)), file("repositories", "{}"))
	return makeTar(t, ents...)
}

func TestDockerSave(t *testing.T) {
	a := openBytes(t, dockerSave(t, false), "saved.tar")
	if a.Format() != Docker {
		t.Fatalf("format %q", a.Format())
	}
	for tag, want := range map[string]string{"": "app", "1.0": "app", "app:1.0": "app", "latest": "app",
		"registry.example/app:latest": "app", "other:2": "other", "2": "other"} {
		img, err := a.Image(tag, nil)
		if err != nil {
			t.Errorf("tag %q: %v", tag, err)
			continue
		}
		root, dir := newRoot(t)
		applyAll(t, img, root)
		if b, _ := os.ReadFile(filepath.Join(dir, "etc/name")); string(b) != want {
			t.Errorf("tag %q: etc/name %q, want %q", tag, b, want)
		}
	}
	_, err := a.Image("3", nil)
	if err == nil || err.Error() != `saved.tar: no image tagged "3" (available: app:1.0,registry.example/app:latest; other:2)` {
		t.Errorf("unknown tag: %v", err)
	}

	// A layer that does not match the config's diff_id.
	a = openBytes(t, dockerSave(t, true), "saved.tar")
	img, err := a.Image("other:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	root, dir := newRoot(t)
	err = img.ApplyLayer(0, root, nil)
	if err == nil || !strings.Contains(err.Error(), "saved.tar: layer 0: blob sha256:") || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("tampered layer: %v", err)
	}
	if got := listTree(t, dir); len(got) != 0 {
		t.Errorf("written despite the mismatch: %v", got)
	}
}

func TestDockerSaveBlobs(t *testing.T) {
	// Docker 25+: blobs/sha256, layers possibly compressed, and an
	// index.json too (then the OCI side is used). Here: manifest.json only,
	// with a gzip layer blob and a symlinked member.
	ly := makeTar(t, file("hello", "world"))
	blob := gz(t, ly)
	cfg := configJSON("arm64", "v8", "/hello", []digest.Digest{digest.FromBytes(ly)})
	cd, bd := digest.FromBytes(cfg), digest.FromBytes(blob)
	mj, _ := json.Marshal([]dockerEntry{{Config: "blobs/sha256/" + cd.Encoded(), RepoTags: []string{"hello:latest"},
		Layers: []string{"layer/layer.tar"}}})
	b := makeTar(t, file("blobs/sha256/"+cd.Encoded(), string(cfg)), file("blobs/sha256/"+bd.Encoded(), string(blob)),
		dir("layer/"), symlink("layer/layer.tar", "../blobs/sha256/"+bd.Encoded()), file("manifest.json", string(mj)))
	img, err := openBytes(t, b, "new.tar").Image("", nil)
	if err != nil {
		t.Fatal(err)
	}
	root, dir := newRoot(t)
	applyAll(t, img, root)
	if got := listTree(t, dir); !slices.Equal(got, []string{`hello "world"`}) {
		t.Errorf("got %v", got)
	}
}

func TestDigestMismatch(t *testing.T) {
	one := testLayer{tar: makeTar(t, file("x", "x")), comp: "gzip"}
	build := func(mutate func(l *layout, m ocispec.Descriptor)) *Archive {
		l := newLayout(t)
		m := l.image("amd64", "", "/x", one)
		l.add(m, "latest")
		mutate(l, m)
		return openBytes(t, l.tar(), "bad.tar")
	}
	// A layer blob with other content under the same name: another size,
	// then the same size.
	for _, tc := range []struct {
		layer testLayer
		bad   []byte
		want  string
	}{
		{one, gz(t, makeTar(t, file("x", "yy"))), "the descriptor says"},
		{testLayer{tar: one.tar}, makeTar(t, file("x", "y")), "digest mismatch"},
	} {
		l := newLayout(t)
		l.add(l.image("amd64", "", "/x", tc.layer), "latest")
		for d, b := range l.blobs {
			if bytes.Equal(b, tc.layer.tar) || bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
				l.blobs[d] = tc.bad
			}
		}
		img, err := openBytes(t, l.tar(), "bad.tar").Image("", nil)
		if err != nil {
			t.Fatal(err)
		}
		root, dir := newRoot(t)
		err = img.ApplyLayer(0, root, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "bad.tar: layer 0: blob sha256:") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("layer: %v, want %q", err, tc.want)
		}
		if got := listTree(t, dir); len(got) != 0 {
			t.Errorf("written despite the mismatch: %v", got)
		}
	}
	// A tampered config or manifest.
	for _, what := range []string{"config", "manifest"} {
		a := build(func(l *layout, m ocispec.Descriptor) {
			for d, b := range l.blobs {
				if (what == "config" && bytes.Contains(b, []byte(`"rootfs"`))) || (what == "manifest" && d == m.Digest) {
					l.blobs[d] = bytes.Replace(b, []byte(`"`), []byte(` "`), 1)
				}
			}
		})
		if _, err := a.Image("", nil); err == nil || !strings.Contains(err.Error(), "size") && !strings.Contains(err.Error(), "digest mismatch") {
			t.Errorf("%s: %v", what, err)
		}
	}
	// Same size, other bytes.
	a := build(func(l *layout, m ocispec.Descriptor) {
		b := l.blobs[m.Digest]
		l.blobs[m.Digest] = bytes.Replace(b, []byte("2"), []byte("3"), 1)
	})
	if _, err := a.Image("", nil); err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("manifest, same size: %v", err)
	}
}

func TestEscapes(t *testing.T) {
	for _, tc := range []struct {
		ents []ent
		want string
	}{
		{[]ent{file("../x", "x")}, `img.tar: layer 0: entry "../x" escapes the root`},
		{[]ent{file("a/../../x", "x")}, `img.tar: layer 0: entry "a/../../x" escapes the root`},
		{[]ent{file("a/../b", "x")}, `img.tar: layer 0: entry "a/../b" escapes the root`},
		{[]ent{file("/abs", "x")}, `img.tar: layer 0: entry "/abs" escapes the root`},
		{[]ent{file("a", "x"), hardlink("h", "../x")}, `img.tar: layer 0: entry "h": link target "../x" escapes the root`},
		{[]ent{hardlink("h", "/etc/passwd")}, `img.tar: layer 0: entry "h": link target "/etc/passwd" escapes the root`},
		{[]ent{file("../../etc/.wh.passwd", "")}, `img.tar: layer 0: entry "../../etc/.wh.passwd" escapes the root`},
	} {
		l := newLayout(t)
		l.add(l.image("amd64", "", "/x", testLayer{tar: makeTar(t, tc.ents...)}), "")
		img, err := openBytes(t, l.tar(), "img.tar").Image("", nil)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := newRoot(t)
		if err := img.ApplyLayer(0, root, nil); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}

// Symlinked parents resolve inside the root, as in a container: an
// absolute target starts over at the root, ".." stops at it.
func TestSymlinkParents(t *testing.T) {
	l0 := makeTar(t,
		symlink("d", "/"),
		symlink("up", "../../../.."),
		dir("sub/"), symlink("sub/away", "../../../outside"),
		symlink("loop", "loop"),
		symlink("var/run", "/run"),
		file("target", "T"),
	)
	l1 := makeTar(t,
		file("d/f", "via d"),
		file("up/g", "via up"),
		file("sub/away/h", "via away"),
		file("var/run/pid", "1"),
		symlink("s", "/"), file("s/same-layer", "S"),
		hardlink("d/hl", "up/target"), // target path through a symlink, resolved inside
		file("d/.wh.f", ""),           // whiteouts of this layer's entries do nothing
	)
	l := newLayout(t)
	l.add(l.image("amd64", "", "/x", testLayer{tar: l0}, testLayer{tar: l1, comp: "gzip"}), "")
	img, err := openBytes(t, l.tar(), "img.tar").Image("", nil)
	if err != nil {
		t.Fatal(err)
	}
	root, dir := newRoot(t)
	applyAll(t, img, root)
	want := []string{
		`d -> /`,
		`f "via d"`,
		`g "via up"`,
		`hl "T"`,
		`loop -> loop`,
		`outside/`,
		`outside/h "via away"`,
		`run/`,
		`run/pid "1"`,
		`s -> /`,
		`same-layer "S"`,
		`sub/`,
		`sub/away -> ../../../outside`,
		`target "T"`,
		`up -> ../../../..`,
		`var/`,
		`var/run -> /run`,
	}
	if got := listTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A symlink loop is an error, not a hang.
	l = newLayout(t)
	l.add(l.image("amd64", "", "/x", testLayer{tar: makeTar(t, symlink("loop", "loop"), file("loop/x", ""))}), "")
	img, _ = openBytes(t, l.tar(), "img.tar").Image("", nil)
	root, _ = newRoot(t)
	if err := img.ApplyLayer(0, root, nil); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("loop: %v", err)
	}
}

func TestReplaceKinds(t *testing.T) {
	l0 := makeTar(t, dir("a/"), file("a/x", "x"), file("b", "b"), symlink("c", "/etc"), dir("e/"))
	l1 := makeTar(t, file("a", "now a file"), dir("b/"), dir("c/"), file("c/in", "in"), symlink("e", "b"))
	l := newLayout(t)
	l.add(l.image("amd64", "", "/x", testLayer{tar: l0}, testLayer{tar: l1}), "")
	img, _ := openBytes(t, l.tar(), "img.tar").Image("", nil)
	root, dir := newRoot(t)
	applyAll(t, img, root)
	want := []string{`a "now a file"`, "b/", "c/", `c/in "in"`, "e -> b"}
	if got := listTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNotAnArchive(t *testing.T) {
	for name, b := range map[string][]byte{
		"junk.tar":  []byte("hello, this is not a tar file at all"),
		"plain.tar": makeTar(t, file("hello", "x")),
		"bz.tar":    []byte("BZh91AY&SY"),
	} {
		_, err := Open(bytes.NewReader(b), int64(len(b)), name)
		if err == nil || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

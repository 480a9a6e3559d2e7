package imagearchive

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of docker's manifests, which OCI layouts may hold too.
const (
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// annotationContainerdName is the full image name containerd and Docker 25+
// put on index.json entries.
const annotationContainerdName = "io.containerd.image.name"

// Image is one image of an archive.
type Image struct {
	// Manifest is the image manifest's descriptor (OCI layouts only; zero
	// for a docker save archive).
	Manifest ocispec.Descriptor
	// Platform is the image's platform, from its config.
	Platform ocispec.Platform
	// Config is the image config JSON exactly as stored in the archive.
	Config []byte
	// Layers are the image's layers, bottom first.
	Layers []Layer

	a *Archive
}

// Layer is one layer of an image.
type Layer struct {
	// Descriptor is the layer blob's descriptor. Its Digest is empty for a
	// legacy docker save layer (<id>/layer.tar), which is verified by
	// DiffID instead.
	ocispec.Descriptor
	// DiffID is the digest of the uncompressed layer tar, from the config.
	DiffID digest.Digest

	member string
}

// candidate is an image the tag and platform choose between.
type candidate struct {
	names    []string
	digest   digest.Digest      // manifest digest (OCI) or image ID (docker)
	desc     ocispec.Descriptor // OCI
	docker   *dockerEntry       // docker save
	platform *ocispec.Platform  // from the index, or loaded from the config
	image    *Image             // loaded lazily
}

// dockerEntry is one image of a docker save manifest.json.
type dockerEntry struct {
	Config       string
	RepoTags     []string
	Layers       []string
	LayerSources map[digest.Digest]ocispec.Descriptor `json:",omitempty"`
}

// Image picks one image of the archive and reads its config and layer
// list, verifying every blob it reads.
//
// tag selects by name: an OCI entry's org.opencontainers.image.ref.name
// or io.containerd.image.name annotation, or a docker RepoTags entry,
// equal to tag or whose tag part is tag (`app:1.0` and `1.0` both match
// `registry.example/app:1.0`); a `sha256:…` tag matches a manifest digest
// or a docker image ID. An empty tag means the only image, or else the one
// named "latest". Within an index, platform selects the manifest (default:
// this machine's platform); a single image is returned whatever its
// platform (compare Image.Platform to warn).
func (a *Archive) Image(tag string, platform *ocispec.Platform) (*Image, error) {
	var cands []*candidate
	var err error
	if a.format == OCI {
		cands, err = a.ociCandidates()
	} else {
		cands, err = a.dockerCandidates()
	}
	if err != nil {
		return nil, err
	}
	if cands, err = a.byTag(cands, tag); err != nil {
		return nil, err
	}
	if a.format == OCI {
		if cands, err = a.expand(cands, 0); err != nil {
			return nil, err
		}
	}
	c, err := a.byPlatform(cands, platform)
	if err != nil {
		return nil, err
	}
	return a.load(c)
}

func (a *Archive) ociCandidates() ([]*candidate, error) {
	b, err := a.readFile("index.json")
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", a.name, err)
	}
	var cands []*candidate
	for _, d := range idx.Manifests {
		if !isImage(d) {
			continue
		}
		c := &candidate{desc: d, digest: d.Digest, platform: d.Platform}
		for _, k := range []string{ocispec.AnnotationRefName, annotationContainerdName} {
			if n := d.Annotations[k]; n != "" {
				c.names = append(c.names, n)
			}
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("%s: index.json lists no image", a.name)
	}
	return cands, nil
}

// isImage tells whether an index entry is an image manifest or index, as
// opposed to an attestation or some other artifact.
func isImage(d ocispec.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return false
	}
	if d.Platform != nil && (d.Platform.OS == "unknown" || d.Platform.Architecture == "unknown") {
		return false
	}
	switch d.MediaType {
	case "", ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, dockerManifest, dockerManifestList:
		return true
	}
	return false
}

func (a *Archive) dockerCandidates() ([]*candidate, error) {
	b, err := a.readFile("manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("%s: manifest.json: %w", a.name, err)
	}
	var cands []*candidate
	for i := range entries {
		e := &entries[i]
		c := &candidate{names: e.RepoTags, docker: e}
		if d, ok := nameDigest(e.Config); ok {
			c.digest = d
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("%s: manifest.json lists no image", a.name)
	}
	return cands, nil
}

// byTag keeps the candidates tag names.
func (a *Archive) byTag(cands []*candidate, tag string) ([]*candidate, error) {
	if tag == "" {
		first := label(cands[0])
		same := true
		for _, c := range cands[1:] {
			same = same && label(c) == first
		}
		if same {
			return cands, nil
		}
		if got := matchTag(cands, "latest"); len(got) > 0 {
			return got, nil
		}
		return nil, fmt.Errorf("%s holds several images (%s): name one as %s:TAG", a.name, available(cands), a.name)
	}
	got := matchTag(cands, tag)
	if len(got) == 0 {
		return nil, fmt.Errorf("%s: no image tagged %q (available: %s)", a.name, tag, available(cands))
	}
	return got, nil
}

// label is what tells images apart in an archive: their names. Unnamed
// entries (say, the platforms of one image listed in index.json) go
// together.
func label(c *candidate) string {
	return strings.Join(c.names, ",")
}

func matchTag(cands []*candidate, tag string) []*candidate {
	var got []*candidate
	for _, c := range cands {
		ok := c.digest != "" && c.digest.String() == tag
		for _, n := range c.names {
			ok = ok || nameMatches(n, tag)
		}
		if ok {
			got = append(got, c)
		}
	}
	return got
}

// nameMatches tells whether tag names the image called name.
func nameMatches(name, tag string) bool {
	if name == tag {
		return true
	}
	repo, t := splitTag(name)
	if t == tag {
		return true
	}
	short := strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "library/")
	return t != "" && (short+":"+t == tag || repo+":"+t == tag)
}

// splitTag splits "host:5000/repo:tag" into "host:5000/repo" and "tag".
// A plain tag (no repository) comes back as ("", tag).
func splitTag(name string) (repo, tag string) {
	name, _, _ = strings.Cut(name, "@")
	i := strings.LastIndex(name, ":")
	if i < 0 {
		if !strings.Contains(name, "/") {
			return "", name
		}
		return name, ""
	}
	if strings.Contains(name[i+1:], "/") {
		return name, ""
	}
	return name[:i], name[i+1:]
}

func available(cands []*candidate) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cands {
		l := label(c)
		if l == "" {
			l = "untagged " + c.digest.String()
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// expand replaces image indexes by the manifests they list.
func (a *Archive) expand(cands []*candidate, depth int) ([]*candidate, error) {
	var out []*candidate
	for _, c := range cands {
		b, err := a.readBlob(blobPath(c.desc.Digest), c.desc)
		if err != nil {
			return nil, err
		}
		var probe struct {
			MediaType string          `json:"mediaType"`
			Manifests json.RawMessage `json:"manifests"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return nil, fmt.Errorf("%s: manifest %s: %w", a.name, c.desc.Digest, err)
		}
		isIndex := probe.Manifests != nil || probe.MediaType == ocispec.MediaTypeImageIndex || probe.MediaType == dockerManifestList
		if !isIndex {
			out = append(out, c)
			continue
		}
		if depth > 4 {
			return nil, fmt.Errorf("%s: image indexes nested too deep", a.name)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("%s: index %s: %w", a.name, c.desc.Digest, err)
		}
		var kids []*candidate
		for _, d := range idx.Manifests {
			if isImage(d) {
				kids = append(kids, &candidate{names: c.names, desc: d, digest: d.Digest, platform: d.Platform})
			}
		}
		kids, err = a.expand(kids, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the image index lists no image", a.name)
	}
	return out, nil
}

// byPlatform picks the candidate that best matches platform.
func (a *Archive) byPlatform(cands []*candidate, platform *ocispec.Platform) (*candidate, error) {
	if len(cands) == 1 {
		return cands[0], nil
	}
	want := platforms.DefaultSpec()
	if platform != nil {
		want = platforms.Normalize(*platform)
	}
	m := platforms.Only(want)
	var got []*candidate
	var have []string
	for _, c := range cands {
		if c.platform == nil {
			img, err := a.load(c)
			if err != nil {
				return nil, err
			}
			p := img.Platform
			c.platform = &p
		}
		have = append(have, platforms.Format(*c.platform))
		if m.Match(*c.platform) {
			got = append(got, c)
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("%s: no image for platform %s (available: %s)", a.name, platforms.Format(want), strings.Join(have, ", "))
	}
	sort.SliceStable(got, func(i, j int) bool { return m.Less(*got[i].platform, *got[j].platform) })
	return got[0], nil
}

// load reads a candidate's manifest and config.
func (a *Archive) load(c *candidate) (*Image, error) {
	if c.image != nil {
		return c.image, nil
	}
	var err error
	if c.docker != nil {
		c.image, err = a.loadDocker(c.docker)
	} else {
		c.image, err = a.loadOCI(c.desc)
	}
	return c.image, err
}

func (a *Archive) loadOCI(desc ocispec.Descriptor) (*Image, error) {
	b, err := a.readBlob(blobPath(desc.Digest), desc)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %w", a.name, desc.Digest, err)
	}
	if m.Config.Digest == "" {
		return nil, fmt.Errorf("%s: manifest %s has no config", a.name, desc.Digest)
	}
	img := &Image{Manifest: desc, a: a}
	if img.Config, err = a.readBlob(blobPath(m.Config.Digest), m.Config); err != nil {
		return nil, err
	}
	diffIDs, err := img.parseConfig()
	if err != nil {
		return nil, err
	}
	for i, l := range m.Layers {
		if err := l.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%s: layer %d: digest %q: %w", a.name, i, l.Digest, err)
		}
		layer := Layer{Descriptor: l, member: blobPath(l.Digest)}
		if len(diffIDs) == len(m.Layers) {
			layer.DiffID = diffIDs[i]
		}
		if !a.has(layer.member) {
			return nil, fmt.Errorf("%s: layer %d: blob %s is not in the archive", a.name, i, l.Digest)
		}
		img.Layers = append(img.Layers, layer)
	}
	return img, nil
}

var hexName = regexp.MustCompile(`^[0-9a-f]{64}(\.json)?$`)

// nameDigest reads the digest a docker save member is named after:
// blobs/<alg>/<hex> or <sha256 hex>.json.
func nameDigest(name string) (digest.Digest, bool) {
	name = cleanMember(name)
	if dir, enc := path.Split(name); strings.HasPrefix(dir, "blobs/") && strings.Count(dir, "/") == 2 {
		d := digest.NewDigestFromEncoded(digest.Algorithm(strings.TrimSuffix(dir[len("blobs/"):], "/")), enc)
		return d, d.Validate() == nil
	}
	if hexName.MatchString(name) {
		return digest.NewDigestFromEncoded(digest.SHA256, strings.TrimSuffix(name, ".json")), true
	}
	return "", false
}

func (a *Archive) loadDocker(e *dockerEntry) (*Image, error) {
	d, ok := nameDigest(e.Config)
	if !ok {
		return nil, fmt.Errorf("%s: manifest.json: config %q is not named after its digest, so it cannot be verified", a.name, e.Config)
	}
	cm, err := a.lookup(e.Config)
	if err != nil {
		return nil, err
	}
	img := &Image{a: a}
	cfgDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: d, Size: cm.size}
	if img.Config, err = a.readBlob(e.Config, cfgDesc); err != nil {
		return nil, err
	}
	diffIDs, err := img.parseConfig()
	if err != nil {
		return nil, err
	}
	if len(diffIDs) != len(e.Layers) {
		return nil, fmt.Errorf("%s: manifest.json lists %d layers, the config %d diff_ids", a.name, len(e.Layers), len(diffIDs))
	}
	for i, name := range e.Layers {
		m, err := a.lookup(name)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", a.name, i, err)
		}
		l := Layer{
			Descriptor: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Size: m.size},
			DiffID:     diffIDs[i],
			member:     name,
		}
		if strings.HasPrefix(cleanMember(name), "blobs/") {
			if d, ok := nameDigest(name); ok {
				l.Digest = d
				if src, ok := e.LayerSources[d]; ok && src.MediaType != "" {
					l.MediaType = src.MediaType
				}
			}
		}
		if err := diffIDs[i].Validate(); err != nil && l.Digest == "" {
			return nil, fmt.Errorf("%s: layer %d: diff_id %q: %w", a.name, i, diffIDs[i], err)
		}
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

// parseConfig reads the platform and the diff IDs from the config.
func (img *Image) parseConfig() ([]digest.Digest, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(img.Config, &cfg); err != nil {
		return nil, fmt.Errorf("%s: image config: %w", img.a.name, err)
	}
	img.Platform = platforms.Normalize(cfg.Platform)
	return cfg.RootFS.DiffIDs, nil
}

package llbgen

import (
	"fmt"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
)

// DefaultUser is the runtime user when smith.yaml names none: smith's
// non-root 10:10, whatever the source image ran as.
const DefaultUser = "10:10"

// ImageConfig builds the OCI image config: the platform, smith.yaml's
// settings, and — where smith.yaml is silent — the source image's
// Entrypoint, Cmd, Env, WorkingDir, ExposedPorts, Labels and StopSignal.
func ImageConfig(f *config.File, o Options) *dockerspec.DockerOCIImage {
	epoch := o.Epoch.UTC()
	if o.Epoch.IsZero() {
		epoch = time.Unix(0, 0).UTC()
	}
	img := &dockerspec.DockerOCIImage{}
	img.Created = &epoch
	img.Platform = ocispecs.Platform{
		OS:           o.Platform.OS,
		Architecture: o.Platform.Architecture,
		Variant:      o.Platform.Variant,
	}
	img.RootFS.Type = "layers"
	img.History = []ocispecs.History{{
		Created:   &epoch,
		CreatedBy: "smith: " + stepName(f),
		Comment:   "smith microcontainer layer",
	}}

	var base dockerspec.DockerOCIImageConfig
	if o.SourceImage != nil {
		base = o.SourceImage.Config
	}
	c := &img.Config
	c.Entrypoint = pick(f.Entrypoint, base.Entrypoint)
	c.Cmd = pick(f.Cmd, base.Cmd)
	c.Env = inheritedEnv(f, o.SourceImage)
	c.WorkingDir = base.WorkingDir
	if f.Dir.Set {
		c.WorkingDir = f.Dir.Value
	}
	c.StopSignal = base.StopSignal
	c.ExposedPorts = base.ExposedPorts
	if f.Ports.Set {
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range f.Ports.Items {
			c.ExposedPorts[p.Value] = struct{}{}
		}
	}
	c.Labels = base.Labels
	if f.LabelsSet {
		c.Labels = map[string]string{}
		for _, kv := range f.Labels {
			c.Labels[kv.Key.Value] = kv.Value.Value
		}
	}
	if len(f.Mounts.Items) > 0 {
		c.Volumes = map[string]struct{}{}
		for _, m := range f.Mounts.Items {
			c.Volumes[m.Value] = struct{}{}
		}
	}
	c.User = DefaultUser
	if f.User.Value != "" {
		c.User = f.User.Value
	}
	if f.Root.Value {
		c.User = "0:0"
	}
	return img
}

// inheritedEnv is smith.yaml's env when set (it replaces the inherited list
// wholesale, PATH included, as smith did), else the source image's.
func inheritedEnv(f *config.File, src *dockerspec.DockerOCIImage) []string {
	if f.Env.Set {
		return values(f.Env)
	}
	if src != nil {
		return src.Config.Env
	}
	return nil
}

func pick(l config.List, inherited []string) []string {
	if l.Set {
		return values(l)
	}
	return inherited
}

func values(l config.List) []string {
	out := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		out = append(out, it.Value)
	}
	return out
}

// Supported rejects smith.yaml fields that parse but that this version does
// not implement yet, instead of silently ignoring them.
func Supported(f *config.File) error {
	notYet := func(key, what string) error {
		return &config.Error{File: f.Name, Pos: f.Keys[key], Field: key, Msg: what + " is not implemented yet"}
	}
	switch f.Type.Value {
	case "", "oci":
	case "mock":
		return &config.Error{File: f.Name, Pos: f.Type.Pos, Field: "package",
			Msg: fmt.Sprintf("installing RPMs (type mock, package %s) is not implemented yet; use type: oci with an image", quoteList(f.Package))}
	}
	if f.Type.Value == "oci" && len(f.Package.Items) > 1 {
		return &config.Error{File: f.Name, Pos: f.Package.Items[1].Pos, Field: "package[1]", Msg: "type oci takes exactly one image"}
	}
	if f.Parent.Value != "" {
		return notYet("parent", "a parent image")
	}
	if f.NSS.Value {
		return notYet("nss", "generating /etc/passwd, /etc/group and NSS modules (nss: true)")
	}
	if len(f.Groups.Items) > 0 {
		return notYet("groups", "supplementary groups")
	}
	if u := f.User.Value; u != "" && !numericUser(u) {
		return &config.Error{File: f.Name, Pos: f.User.Pos, Field: "user",
			Msg: fmt.Sprintf("user names (%q) need a generated /etc/passwd, which is not implemented yet; use numeric uid[:gid]", u)}
	}
	if f.Mock.Set {
		return notYet("mock", "the mock section")
	}
	return nil
}

func numericUser(u string) bool {
	for _, part := range strings.SplitN(u, ":", 2) {
		if part == "" {
			return false
		}
		for _, r := range part {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

func quoteList(l config.List) string {
	var q []string
	for _, it := range l.Items {
		q = append(q, fmt.Sprintf("%q", it.Value))
	}
	return strings.Join(q, ", ")
}

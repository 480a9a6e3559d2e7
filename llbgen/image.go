package llbgen

import (
	"maps"
	"strconv"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/nss"
)

// DefaultUser is the runtime user when smith.yaml (and a parent image) name
// none: smith's non-root 10:10, whatever the source image ran as.
const DefaultUser = "10:10"

// Labels smith records in every image: its version and the normalized
// smith.yaml it was built from (credentials removed).
const (
	LabelVersion    = "org.smithbuild.smith.version"
	LabelDefinition = "org.smithbuild.smith.definition"
)

// ImageConfig builds the OCI image config: the platform, smith.yaml's
// settings and, where smith.yaml is silent, the source image's Entrypoint,
// Cmd, Env, WorkingDir, ExposedPorts, Labels and StopSignal, then the parent
// image's whole config. The source image's User is never inherited (smith
// runs non-root by default); a parent's is.
func ImageConfig(f *config.File, o Options, u *nss.Result) *dockerspec.DockerOCIImage {
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
	if o.ParentImage != nil {
		img.History = append(img.History, o.ParentImage.History...)
	}
	img.History = append(img.History, ocispecs.History{
		Created:   &epoch,
		CreatedBy: "smith: " + stepName(f),
		Comment:   "smith microcontainer layer",
	})

	base := inherited(o.SourceImage, o.ParentImage)
	c := &img.Config
	c.Entrypoint = pick(f.Entrypoint, base.Entrypoint)
	c.Cmd = pick(f.Cmd, base.Cmd)
	if f.Entrypoint.Set && !f.Cmd.Set {
		// As in a Dockerfile: a new entrypoint does not run with the
		// inherited command as its arguments.
		c.Cmd = nil
	}
	c.Env = imageEnv(f, base)
	c.WorkingDir = base.WorkingDir
	if f.Dir.Set {
		c.WorkingDir = f.Dir.Value
	}
	c.StopSignal = base.StopSignal
	c.Healthcheck = base.Healthcheck
	c.ExposedPorts = base.ExposedPorts
	if f.Ports.Set {
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range f.Ports.Items {
			c.ExposedPorts[p.Value] = struct{}{}
		}
	}
	c.Labels = maps.Clone(base.Labels)
	if f.LabelsSet {
		c.Labels = map[string]string{}
		for _, kv := range f.Labels {
			c.Labels[kv.Key.Value] = kv.Value.Value
		}
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	maps.Copy(c.Labels, o.Labels)
	if o.Version != "" {
		c.Labels[LabelVersion] = o.Version
	}
	if def, err := f.Normalized(); err == nil {
		c.Labels[LabelDefinition] = def
	}
	c.Volumes = maps.Clone(base.Volumes)
	if len(f.Mounts.Items) > 0 {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for _, m := range f.Mounts.Items {
			c.Volumes[m.Value] = struct{}{}
		}
	}
	c.User = base.User
	switch {
	case f.Root.Value:
		c.User = "0:0"
	case f.User.Value != "":
		c.User = f.User.Value
	case c.User == "":
		c.User = DefaultUser
		if u != nil {
			c.User = strconv.Itoa(u.UID) + ":" + strconv.Itoa(u.GID)
		}
	}
	return img
}

// inherited merges the defaults: the source image's inheritable fields
// first, then the parent's config fills what is still empty.
func inherited(src, parent *dockerspec.DockerOCIImage) dockerspec.DockerOCIImageConfig {
	var c dockerspec.DockerOCIImageConfig
	if src != nil {
		s := src.Config
		c.Entrypoint, c.Cmd, c.Env, c.WorkingDir = s.Entrypoint, s.Cmd, s.Env, s.WorkingDir
		c.ExposedPorts, c.Labels, c.StopSignal = s.ExposedPorts, s.Labels, s.StopSignal
	}
	if parent == nil {
		return c
	}
	p := parent.Config
	if len(c.Entrypoint) == 0 && len(c.Cmd) == 0 {
		c.Entrypoint, c.Cmd = p.Entrypoint, p.Cmd
	}
	if len(c.Env) == 0 {
		c.Env = p.Env
	}
	if c.WorkingDir == "" {
		c.WorkingDir = p.WorkingDir
	}
	if len(c.ExposedPorts) == 0 {
		c.ExposedPorts = p.ExposedPorts
	}
	if len(c.Labels) == 0 {
		c.Labels = p.Labels
	}
	if c.StopSignal == "" {
		c.StopSignal = p.StopSignal
	}
	c.User, c.Volumes, c.Healthcheck = p.User, p.Volumes, p.Healthcheck
	return c
}

// imageEnv is the environment the image will have: smith.yaml's, else the
// inherited one.
func imageEnv(f *config.File, base dockerspec.DockerOCIImageConfig) []string {
	return pick(f.Env, base.Env)
}

// pick is smith.yaml's list when set (it replaces the inherited value
// wholesale), else the inherited one.
func pick(l config.List, inherited []string) []string {
	if l.Set {
		return l.Values()
	}
	return inherited
}

// Users resolves smith.yaml's user, groups and nss into the runtime ids and
// the user database files. config.Parse has checked them (by resolving them
// the same way), so for a File it returned there is no error; for any other
// File the error is nss's, without a position.
func Users(f *config.File) (*nss.Result, error) {
	return nss.Resolve(f.NSSInput())
}

package llbgen

import (
	"maps"
	"strconv"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/passwd"
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
func ImageConfig(f *config.File, o Options, u *passwd.Result) *dockerspec.DockerOCIImage {
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
	img.Config = containerConfig(f, o, u)
	return img
}

// containerConfig is the config part of ImageConfig: smith.yaml's settings
// over the inherited ones.
func containerConfig(f *config.File, o Options, u *passwd.Result) dockerspec.DockerOCIImageConfig {
	base := inherited(o.SourceImage, o.ParentImage)
	var c dockerspec.DockerOCIImageConfig
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
	c.Labels = imageLabels(f, o, base)
	c.Volumes = maps.Clone(base.Volumes)
	if len(f.Mounts.Items) > 0 {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for _, m := range f.Mounts.Items {
			c.Volumes[m.Value] = struct{}{}
		}
	}
	c.User = imageUser(f, base, u)
	return c
}

// imageLabels are smith.yaml's labels, else the inherited ones, then the
// build's (Options.Labels) and smith's own.
func imageLabels(f *config.File, o Options, base dockerspec.DockerOCIImageConfig) map[string]string {
	labels := maps.Clone(base.Labels)
	if f.LabelsSet {
		labels = map[string]string{}
		for _, kv := range f.Labels {
			labels[kv.Key.Value] = kv.Value.Value
		}
	}
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, o.Labels)
	if o.Version != "" {
		labels[LabelVersion] = o.Version
	}
	if def, err := f.Normalized(); err == nil {
		labels[LabelDefinition] = def
	}
	return labels
}

// imageUser is the image's User: 0:0 with root, smith.yaml's user verbatim,
// a parent's, else the resolved default user's ids (u), or DefaultUser.
func imageUser(f *config.File, base dockerspec.DockerOCIImageConfig, u *passwd.Result) string {
	user := base.User
	switch {
	case f.Root.Value:
		user = "0:0"
	case f.User.Value != "":
		user = f.User.Value
	case user == "":
		user = DefaultUser
		if u != nil {
			user = strconv.Itoa(u.UID) + ":" + strconv.Itoa(u.GID)
		}
	}
	return user
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
// File the error is passwd's, without a position.
func Users(f *config.File) (*passwd.Result, error) {
	return passwd.Resolve(f.PasswdInput())
}

package llbgen

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/smithbuild/smith/config"
	"github.com/smithbuild/smith/internal/lock"
	"github.com/smithbuild/smith/internal/protocol"
)

// InstallerContext is the named build context that replaces the installer
// image for one build (--build-context installer=…).
const InstallerContext = "installer"

// Mount points of the install step, inside the installer image (a locked
// install: the frontend image).
const (
	installRoot    = "/smith/root"
	installMeta    = "/smith/meta"
	installContext = "/smith/context"
	installKeys    = "/smith/keys"
	installScript  = "/smith/bin"
	installRepos   = "/smith/repos.smith"
	installRepoDir = "/smith/repos.d"     // tmpfs: the repo files dnf reads
	installSecrets = "/run/secrets/smith" // repository credentials
	installHelper  = "/smith/helper"      // the helper, for the record
	installSpec    = "/smith/spec"        // the helper's request
	installerMount = "/smith/installer"   // a locked build: the installer, for its keys
	dnfCache       = "/var/cache/dnf"
)

// The install step's record of the rpmdb, read by the trace step to say
// which package each image file comes from.
const (
	rpmFilesName    = "files.tsv"
	rpmPackagesName = "packages.txt"
	// rpmQAName holds container-manifest-2 lines for every package.
	rpmQAName = "rpmqa.tsv"
	rpmMount  = "/smith/rpm"
)

// ContextFiles lists the build-context paths the install step reads (local
// RPMs, repository folders, key files), as include patterns. Nothing else
// of the context reaches that step, so editing rootfs/ never reinstalls.
func ContextFiles(f *config.File) []string {
	var out []string
	_, local := f.InstallPackages()
	for _, it := range local {
		p, _ := config.ContextPath(it.Value)
		out = append(out, p)
	}
	for _, r := range f.Repos {
		for _, v := range []string{r.BaseURL.Value, r.GPGKey.Value} {
			if v != "" && !config.IsURL(v) {
				p, _ := config.ContextPath(v)
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// repoAuth is a repository whose basic-auth credentials come from a secret
// file.
type repoAuth struct{ name, file string }

// InstallInputs are the LLB inputs of the install step.
type InstallInputs struct {
	// Installer is the image that runs dnf. A locked install needs it
	// only when LockNeedsInstaller says so; it may be empty otherwise.
	Installer llb.State
	// Context holds the ContextFiles of the build context.
	Context llb.State
	// Resolve makes the step resolve the transaction only, writing
	// ResolveFile (see Resolve) instead of installing.
	Resolve bool
	// Locked, when not nil, are the packages of smith.lock for this
	// platform, confined by lock.CheckOrigins: each is fetched as its own checksummed source and rpm
	// installs them all, with no solve and no repository metadata.
	Locked []lock.Package
}

// ResolveFile is where Resolve's state holds the resolved transaction (a
// JSON list of lock.Package).
const ResolveFile = "/lock.json"

//go:embed resolve.py
var resolvePy string

// install emits the install step: packages installed into an empty root
// by dnf in the installer image, with dnf's cache on a cache mount, or
// smith.lock's by rpm (lockedInstall). It returns the install root and
// the rpmdb record.
func install(f *config.File, in InstallInputs, o Options) (root, meta llb.State, err error) {
	if in.Locked != nil && !in.Resolve {
		return lockedInstall(f, in, o)
	}
	// config.Parse made sure there is something to install and that local
	// RPM paths need no quoting in the script.
	names, local := f.InstallPackages()
	installerRepos := f.UseInstallerRepos()
	localCheck := f.CheckLocalSignatures()
	cross := CrossInstall(f, o.Platform, o.BuildPlatform)

	var s script
	s.line("#!/bin/sh")
	s.line("# Written by smith: install packages into an empty root with dnf.")
	s.line("set -eu")
	s.line("repos=" + installRepoDir)
	s.line(`mkdir -p "$repos"`)
	if installerRepos {
		s.line(`for r in /etc/yum.repos.d/*.repo; do [ -e "$r" ] && cp "$r" "$repos/"; done`)
	}
	runOpts, keys := repositories(&s, f)
	if len(local) > 0 && localCheck {
		// dnf never imports keys for local files: put the repositories' keys
		// (and, with the installer's repos, its keys) into the new rpmdb.
		for _, k := range keys {
			s.line(fmt.Sprintf("rpm --root %s --import '%s'", installRoot, k))
		}
		if installerRepos {
			s.line(fmt.Sprintf(`for k in /etc/pki/rpm-gpg/RPM-GPG-KEY*; do [ -e "$k" ] && rpm --root %s --import "$k"; done`, installRoot))
		}
	}
	s.line(`releasever=${SMITH_RELEASEVER:-}`)
	s.line(`if [ -z "$releasever" ] && [ -r /etc/os-release ]; then releasever=$(. /etc/os-release && echo "${VERSION_ID%%.*}"); fi`)
	packageArgs(&s, names, local)
	if in.Resolve {
		resolveCommand(&s, o, cross)
	} else {
		dnfInstall(&s, o, localCheck, cross)
		// The helper writes the record of the rpmdb (and names the
		// scriptlets a cross install skipped).
		spec, err := installSpecMount(protocol.Install{Root: installRoot, Cross: crossArches(o, cross), Record: recordIn(installMeta)})
		if err != nil {
			return llb.State{}, llb.State{}, err
		}
		runOpts = append(runOpts, spec, llb.AddMount(installHelper, o.Helper, llb.Readonly))
		s.line(strings.Join(installCommand(), " "))
	}

	runOpts = append(runOpts, dnfRunOptions(f, in, o, &s)...)
	runOpts = append(runOpts, installStepOptions(f, in, o, slices.Concat(local, names))...)
	run := in.Installer.Run(runOpts...)
	root = run.AddMount(installRoot, llb.Scratch())
	meta = run.AddMount(installMeta, llb.Scratch())
	return root, meta, nil
}

// repositories writes the install step's repository files and the script
// lines that hand them to dnf. The files are written as files, not by the
// script, so no value from smith.yaml is ever parsed by the shell. It
// returns the step's mounts and secrets for them, and the key files.
func repositories(s *script, f *config.File) (runOpts []llb.RunOption, keys []string) {
	runOpts = []llb.RunOption{llb.AddMount(installRepoDir, llb.Scratch(), llb.Tmpfs())}
	var auth []repoAuth
	repoFiles := llb.Mkdir("/", 0o755, llb.WithParents(true))
	for i, r := range f.Repos {
		repo, key, opts, a := repoFile(i, r)
		runOpts = append(runOpts, opts...)
		if key != "" {
			keys = append(keys, key)
		}
		if a != nil {
			auth = append(auth, *a)
		}
		repoFiles = repoFiles.Mkfile("/"+r.Name.Value+".repo", 0o644, []byte(repo))
	}
	if len(f.Repos) > 0 {
		runOpts = append(runOpts, llb.AddMount(installRepos,
			llb.Scratch().File(repoFiles, llb.WithCustomName("[smith] write the repository files")), llb.Readonly))
		s.line(`cp ` + installRepos + `/*.repo "$repos/"`)
	}
	for _, a := range auth {
		// user:password from the secret, written as data: no shell ever
		// parses it, no command line shows it.
		s.line(fmt.Sprintf(`IFS= read -r cred <%s || [ -n "$cred" ]`, a.file))
		// The secret may also be an Authorization header ("Basic <base64 of
		// user:password>"), the form BuildKit sends when it fetches locked
		// RPMs itself.
		s.line(`case $cred in "Basic "*) cred=$(printf '%s' "${cred#Basic }" | base64 -d) ;; esac`)
		s.line(fmt.Sprintf(`printf 'username=%%s\npassword=%%s\n' "${cred%%%%:*}" "${cred#*:}" >>"$repos/%s.repo"`, a.name))
		s.line(`unset cred`)
	}
	return runOpts, keys
}

// repoFile is the repository file of repos[i], the path of its key in the
// step ("" without one), the step's mounts and secrets for it, and the
// secret file its basic-auth credentials come from, if any.
func repoFile(i int, r config.Repo) (repo, key string, runOpts []llb.RunOption, auth *repoAuth) {
	key, runOpts = repoKey(i, r)
	baseurl := r.BaseURL.Value
	if !config.IsURL(baseurl) {
		p, _ := config.ContextPath(baseurl)
		baseurl = "file://" + installContext + "/" + p
	}
	gpgcheck := 0
	if r.CheckSignatures() {
		gpgcheck = 1
	}
	repo = fmt.Sprintf("[%s]\nname=%s\nbaseurl=%s\nenabled=1\ngpgcheck=%d\n", r.Name.Value, r.Name.Value, baseurl, gpgcheck)
	if key != "" {
		repo += "gpgkey=file://" + key + "\n"
	}
	// Secrets are mounted into this step only (tmpfs, in no layer, log
	// or cache key); the repo file that names them lives on a tmpfs.
	if r.ClientCert.Set {
		for _, c := range []struct{ opt, id, file string }{
			{"sslclientcert", r.ClientCert.Value, "cert"}, {"sslclientkey", r.ClientKey.Value, "key"},
		} {
			dst := fmt.Sprintf("%s/%d-%s", installSecrets, i, c.file)
			runOpts = append(runOpts, llb.AddSecret(dst, llb.SecretID(c.id)))
			repo += c.opt + "=" + dst + "\n"
		}
	}
	if r.Secret.Set {
		dst := fmt.Sprintf("%s/%d-auth", installSecrets, i)
		runOpts = append(runOpts, llb.AddSecret(dst, llb.SecretID(r.Secret.Value)))
		auth = &repoAuth{name: r.Name.Value, file: dst}
	}
	return repo, key, runOpts, auth
}

// repoKey is the path of repos[i]'s key in the install step ("" without
// one) and the step's mount for it: a URL is fetched as its own source.
func repoKey(i int, r config.Repo) (key string, runOpts []llb.RunOption) {
	switch v := r.GPGKey.Value; {
	case v == "":
	case config.IsURL(v):
		dir := fmt.Sprintf("%s/%d", installKeys, i)
		runOpts = append(runOpts, llb.AddMount(dir,
			llb.HTTP(v, llb.Filename("key"), llb.WithCustomName("[smith] fetch the key of repo "+r.Name.Value)),
			llb.Readonly))
		key = dir + "/key"
	default:
		p, _ := config.ContextPath(v)
		key = installContext + "/" + p
	}
	return key, runOpts
}

// packageArgs sets the script's arguments to what dnf installs: the local
// RPM files each pattern matches (at least one), then the package names.
func packageArgs(s *script, names, local []config.String) {
	s.line(`set --`)
	for _, it := range local {
		p, _ := config.ContextPath(it.Value)
		s.line(fmt.Sprintf(`n=$#; for r in %s/%s; do [ -e "$r" ] && set -- "$@" "$r"; done`, installContext, p))
		// No smith.yaml position here: it would make the step's cache key
		// change whenever lines move. The step carries its location.
		s.line(fmt.Sprintf(`[ $# -gt $n ] || { echo 'package: no RPM file in the build context matches %s' >&2; exit 1; }`, it.Value))
	}
	for _, it := range names {
		s.line(fmt.Sprintf("set -- \"$@\" '%s'", it.Value))
	}
}

// resolveCommand resolves the transaction with resolve.py, writing
// ResolveFile, instead of installing.
func resolveCommand(s *script, o Options, cross bool) {
	forcearch := ""
	if cross {
		forcearch = RPMArch(o.Platform)
	}
	s.line("mkdir -p " + installMeta)
	s.line(strings.Join([]string{"python3", installScript + "/resolve.py", "--root", installRoot, `--releasever="$releasever"`,
		`--reposdir="$repos"`, "--cachedir", dnfCache, "--forcearch=" + forcearch,
		"--context", installContext, "--out", installMeta + ResolveFile, "--", `"$@"`}, " "))
}

// dnfInstall installs the script's arguments with dnf.
func dnfInstall(s *script, o Options, localCheck, cross bool) {
	localpkg := 0
	if localCheck {
		localpkg = 1
	}
	tsflags := "nodocs"
	dnfArgs := []string{"dnf", "--installroot=" + installRoot, `--releasever="$releasever"`}
	if cross {
		// dnf picks the target's packages (and $basearch); their
		// scriptlets would need the target's CPU, so they do not run.
		dnfArgs = append(dnfArgs, "--forcearch="+RPMArch(o.Platform))
		tsflags = "nodocs,noscripts,notriggers"
	}
	s.line(strings.Join(append(dnfArgs,
		"--setopt=install_weak_deps=False", "--setopt=tsflags="+tsflags, "--nodocs",
		"--setopt=cachedir="+dnfCache, `--setopt=reposdir="$repos"`,
		"--setopt=skip_if_unavailable=False", fmt.Sprintf("--setopt=localpkg_gpgcheck=%d", localpkg),
		"-y", "install", `"$@"`,
	), " "))
}

// dnfRunOptions are the options of the dnf step's script: the script and
// dnf's cache.
func dnfRunOptions(f *config.File, in InstallInputs, o Options, s *script) []llb.RunOption {
	scriptFile := llb.Mkfile("/install", 0o755, []byte(s.String()))
	if in.Resolve {
		scriptFile = scriptFile.Mkfile("/resolve.py", 0o644, []byte(resolvePy))
	}
	scriptState := llb.Scratch().File(scriptFile, llb.WithCustomName("[smith] write the install script"))
	runOpts := []llb.RunOption{
		llb.Args([]string{"/bin/sh", installScript + "/install"}),
		llb.AddMount(installScript, scriptState, llb.Readonly),
		llb.AddMount(dnfCache, llb.Scratch(), llb.AsPersistentCacheDir("smith-dnf-"+platformID(o.Platform), llb.CacheMountLocked)),
		llb.Platform(InstallPlatform(f, o.Platform, o.BuildPlatform)),
	}
	if f.Releasever.Value != "" {
		runOpts = append(runOpts, llb.AddEnv("SMITH_RELEASEVER", f.Releasever.Value))
	}
	return runOpts
}

// installStepOptions are the options every install step shares: the build
// context's files, the step's name (what lists what it installs) and its
// place in smith.yaml.
func installStepOptions(f *config.File, in InstallInputs, o Options, what []config.String) []llb.RunOption {
	var whatNames []string
	for _, it := range what {
		whatNames = append(whatNames, it.Value)
	}
	runOpts := []llb.RunOption{
		llb.AddMount(installContext, in.Context, llb.Readonly),
		llb.WithCustomName(installStepName(in, whatNames)),
	}
	if o.IgnoreCache {
		runOpts = append(runOpts, llb.IgnoreCache)
	}
	ps := []config.Pos{f.Keys["package"], f.Package.Pos, f.Keys["repos"]}
	for _, it := range f.Package.Items {
		ps = append(ps, it.Pos)
	}
	for _, r := range f.Repos {
		ps = append(ps, r.Pos, r.Name.Pos, r.BaseURL.Pos, r.GPGKey.Pos, r.GPGCheck.Pos)
	}
	if r := rangeOf(ps...); r != nil {
		runOpts = append(runOpts, o.SourceMap.Location(r))
	}
	return runOpts
}

// recordIn is where the record of the rpmdb is in the folder dir: the
// install step's output, or where the trace step mounts it.
func recordIn(dir string) protocol.Record {
	return protocol.Record{Files: dir + "/" + rpmFilesName, Packages: dir + "/" + rpmPackagesName, QA: dir + "/" + rpmQAName}
}

// crossArches names the architectures of a cross install, nil otherwise.
func crossArches(o Options, cross bool) *protocol.Cross {
	if !cross {
		return nil
	}
	return &protocol.Cross{Target: RPMArch(o.Platform), Build: RPMArch(o.BuildPlatform)}
}

// installSpecMount mounts the helper's install request into the step.
func installSpecMount(in protocol.Install) (llb.RunOption, error) {
	b, err := protocol.EncodeInstall(in)
	if err != nil {
		return nil, fmt.Errorf("encoding the install request: %w", err)
	}
	spec := llb.Scratch().File(llb.Mkfile("/install.json", 0o644, b), llb.WithCustomName("[smith] write the install request"))
	return llb.AddMount(installSpec, spec, llb.Readonly), nil
}

// installCommand runs the helper on the install request.
func installCommand() []string {
	return []string{installHelper + HelperPath, "install", "--spec", installSpec + "/install.json"}
}

// emulated tells whether the installer runs for the target under
// emulation, not natively.
func emulated(f *config.File, target, build ocispecs.Platform) bool {
	return platformID(InstallPlatform(f, target, build)) != platformID(build)
}

// InstallPlatform is where the installer runs: natively on the build
// platform, unless smith.yaml asks for emulation of the target's.
func InstallPlatform(f *config.File, target, build ocispecs.Platform) ocispecs.Platform {
	if f.Emulate.Value || build.OS == "" {
		return target
	}
	return build
}

// CrossInstall tells whether dnf installs another architecture's packages
// than the one it runs on (--forcearch, no scriptlets).
func CrossInstall(f *config.File, target, build ocispecs.Platform) bool {
	return RPMArch(InstallPlatform(f, target, build)) != RPMArch(target)
}

// RPMArch is the RPM architecture name of an OCI platform.
func RPMArch(p ocispecs.Platform) string {
	switch p.Architecture {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	case "arm":
		if p.Variant == "v6" || p.Variant == "v5" {
			return "armv6hl"
		}
		return "armv7hl"
	case "ppc64le", "s390x", "riscv64":
		return p.Architecture
	}
	return p.Architecture
}

func platformID(p ocispecs.Platform) string {
	id := p.OS + "-" + p.Architecture
	if p.Variant != "" {
		id += "-" + p.Variant
	}
	return id
}

type script struct{ b strings.Builder }

func (s *script) line(l string) { s.b.WriteString(l); s.b.WriteByte('\n') }

func (s *script) String() string { return s.b.String() }

func installStepName(in InstallInputs, what []string) string {
	switch {
	case in.Resolve:
		return "[smith] resolve " + strings.Join(what, " ") + " for smith.lock"
	case in.Locked != nil:
		return "[smith] rpm install (smith.lock) " + strings.Join(what, " ")
	}
	return "[smith] dnf install " + strings.Join(what, " ")
}

// lockedDir is where a locked build's RPMs are mounted, one folder each.
const lockedDir = "/smith/locked"

// lockedSources fetches each locked RPM from its URL as its own source,
// verified against its SHA-256: BuildKit fetches it once, caches it by
// checksum, and shares it between builds and builders. A repository's
// secret goes along (as the Authorization header); lock.CheckOrigins made
// sure the URL is on that repository's own host.
func lockedSources(f *config.File, pkgs []lock.Package) []llb.RunOption {
	var out []llb.RunOption
	for i, p := range pkgs {
		if p.URL == "" {
			continue // a file of the build context
		}
		opts := []llb.HTTPOption{llb.Checksum(digest.Digest("sha256:" + p.SHA256)), llb.Filename(lock.RPMFileName),
			llb.WithCustomName("[smith] fetch " + p.NEVRA)}
		if r, ok := f.Repo(p.Repo); ok && r.Secret.Set {
			opts = append(opts, llb.AuthHeaderSecret(r.Secret.Value))
		}
		out = append(out, llb.AddMount(fmt.Sprintf("%s/%d", lockedDir, i), llb.HTTP(p.URL, opts...), llb.Readonly))
	}
	return out
}

// lockedInstall installs the locked RPMs with rpm in one transaction, in
// a step of its own: the helper imports the repositories' keys, checks
// each signature where smith.yaml asks (the repository's gpgcheck,
// localpkg_gpgcheck for local files; never the lock), and runs rpm. The
// rpm is the frontend image's, so a locked build pulls no installer image
// (unless it needs its keys, see LockNeedsInstaller, or emulates the
// target, which runs the installer's rpm); the step has no network.
func lockedInstall(f *config.File, in InstallInputs, o Options) (root, meta llb.State, err error) {
	var keys []string
	runOpts := lockedSources(f, in.Locked)
	for i, r := range f.Repos {
		key, opts := repoKey(i, r)
		if key != "" {
			keys = append(keys, key)
		}
		runOpts = append(runOpts, opts...)
	}
	req := protocol.Install{Root: installRoot, Keys: keys, Record: recordIn(installMeta),
		Cross: crossArches(o, CrossInstall(f, o.Platform, o.BuildPlatform))}
	names, local := f.InstallPackages()
	if len(local) > 0 {
		req.Context = installContext
	}
	for _, it := range local {
		p, _ := config.ContextPath(it.Value)
		req.Globs = append(req.Globs, protocol.Glob{Pattern: p, Name: it.Value})
	}
	for i, p := range in.Locked {
		pkg := protocol.Package{NEVRA: p.NEVRA, File: fmt.Sprintf("%s/%d/%s", lockedDir, i, lock.RPMFileName)}
		if p.URL == "" {
			// A file of the build context: BuildKit checked no
			// checksum, so the helper does.
			pkg.File, pkg.SHA256, pkg.Path = installContext+"/"+p.Path, p.SHA256, p.Path
		}
		pkg.CheckSignature = signatureRequired(f, p)
		req.Packages = append(req.Packages, pkg)
	}
	platform := o.BuildPlatform
	base := o.Helper
	if emulated(f, o.Platform, o.BuildPlatform) {
		// Emulated: the installer's rpm for the target runs the
		// scriptlets.
		platform, base = o.Platform, in.Installer
	}
	if needsInstallerKeys(f, in.Locked) {
		req.KeysFrom = installerMount
		runOpts = append(runOpts, llb.AddMount(installerMount, in.Installer, llb.Readonly))
	}
	spec, err := installSpecMount(req)
	if err != nil {
		return llb.State{}, llb.State{}, err
	}
	runOpts = append(runOpts, spec,
		llb.Args(installCommand()),
		llb.AddMount(installHelper, o.Helper, llb.Readonly),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
		llb.AddEnv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
		llb.Network(pb.NetMode_NONE),
		llb.Platform(platform))
	runOpts = append(runOpts, installStepOptions(f, in, o, slices.Concat(local, names))...)
	run := base.Run(runOpts...)
	root = run.AddMount(installRoot, llb.Scratch())
	meta = run.AddMount(installMeta, llb.Scratch())
	return root, meta, nil
}

// LockNeedsInstaller tells whether a locked build needs the installer
// image: to emulate the target, or for its repositories' keys. Otherwise
// a locked build never pulls it.
func LockNeedsInstaller(f *config.File, pkgs []lock.Package, target, build ocispecs.Platform) bool {
	return emulated(f, target, build) || needsInstallerKeys(f, pkgs)
}

// needsInstallerKeys tells whether a locked install imports the keys of
// the installer's own repositories: it has packages of those repositories,
// or local files, which dnf checks against every key it has; either only
// when their signatures are checked.
func needsInstallerKeys(f *config.File, pkgs []lock.Package) bool {
	if !f.UseInstallerRepos() {
		return false
	}
	for _, p := range pkgs {
		if _, own := f.Repo(p.Repo); !own && signatureRequired(f, p) {
			return true
		}
	}
	return false
}

// signatureRequired is smith.yaml's signature policy for a locked package,
// by the repository the lock says it came from (lock.CheckOrigins
// confined it there): its repository's gpgcheck, localpkg_gpgcheck for local
// files, and always for the installer's own repositories.
func signatureRequired(f *config.File, p lock.Package) bool {
	if p.Repo == lock.LocalRepo {
		return f.CheckLocalSignatures()
	}
	if r, ok := f.Repo(p.Repo); ok {
		return r.CheckSignatures()
	}
	return true
}

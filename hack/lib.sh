# shellcheck shell=bash
# Common settings for smith's hack/ scripts. Source it; it changes nothing.
#
# SMITH_STATE  runtime state: buildkitd and registry data, sockets, pid files,
#              logs (default /tmp/smith-hack). Removed by hack/down --purge.
# SMITH_CACHE  built tools and base-image rootfs kept between runs
#              (default ~/.cache/smith).
set -euo pipefail

SMITH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SMITH_STATE=${SMITH_STATE:-/tmp/smith-hack}
SMITH_CACHE=${SMITH_CACHE:-${HOME:-/root}/.cache/smith}
# The published frontend image: named here and nowhere else (the release
# workflow, the README and the examples are checked against it).
SMITH_PUBLISHED_IMAGE=ghcr.io/smithbuild/smith
SMITH_REGISTRY=${SMITH_REGISTRY:-127.0.0.1:5000}
SMITH_FRONTEND_IMAGE=${SMITH_FRONTEND_IMAGE:-$SMITH_REGISTRY/smith:dev}
BUILDX_VERSION=${BUILDX_VERSION:-v0.38.2}
# The BuildKit version is the one go.mod pins: the frontend and the daemon
# used for testing always match.
BUILDKIT_VERSION=$(cd "$SMITH_ROOT" && go list -m -f '{{.Version}}' github.com/moby/buildkit)
TOOLS="$SMITH_CACHE/tools/buildkit-$BUILDKIT_VERSION-buildx-$BUILDX_VERSION"
export BUILDKIT_HOST=${BUILDKIT_HOST:-unix://$SMITH_STATE/buildkitd.sock}
export PATH="$TOOLS:$PATH"
export DOCKER_CONFIG="$SMITH_STATE/docker"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# pid_alive FILE: the process recorded in FILE is running.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for DESC CMD...: retry CMD for up to 60 s.
wait_for() {
	local desc=$1; shift
	for _ in $(seq 120); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	die "timed out waiting for $desc"
}

# registry_get PATH: GET from the local registry's v2 API, accepting
# manifests and indexes.
registry_get() {
	curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$SMITH_REGISTRY/v2/$1"
}

# registry_has REPO TAG: the tag exists in the local registry.
registry_has() { registry_get "$1/manifests/$2" >/dev/null 2>&1; }

# registry_manifest REPO TAG [ARCH]: the image manifest for linux/ARCH
# (default amd64), resolving an index.
registry_manifest() {
	local m arch=${3:-amd64}
	m=$(registry_get "$1/manifests/$2")
	if [ "$(jq -r '.manifests // empty | length' <<<"$m")" != "" ]; then
		local d
		d=$(jq -r --arg a "$arch" '.manifests[] | select(.platform.os=="linux" and .platform.architecture==$a) | .digest' <<<"$m" | head -1)
		[ -n "$d" ] || die "$1:$2 has no linux/$arch image"
		m=$(registry_get "$1/manifests/$d")
	fi
	echo "$m"
}

# oci_image_manifest LAYOUT: the descriptor (JSON) of the image manifest in an
# OCI layout directory exported by BuildKit, looking inside an index (the
# image plus its attestations) when there is one.
oci_image_manifest() {
	local desc
	desc=$(jq -c '.manifests[0]' "$1/index.json")
	if [ "$(jq -r .mediaType <<<"$desc")" = application/vnd.oci.image.index.v1+json ]; then
		desc=$(jq -c '[.manifests[] | select(.annotations["vnd.docker.reference.type"] != "attestation-manifest")][0]' \
			"$1/blobs/sha256/$(jq -r .digest <<<"$desc" | cut -d: -f2)")
	fi
	echo "$desc"
}

# oci_layer LAYOUT: the path of the first layer blob of the image in LAYOUT.
oci_layer() {
	local m
	m=$(oci_image_manifest "$1" | jq -r .digest | cut -d: -f2)
	echo "$1/blobs/sha256/$(jq -r '.layers[0].digest' "$1/blobs/sha256/$m" | cut -d: -f2)"
}

# The Debian mirror debootstrap downloads from.
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# logged NAME CMD...: run CMD with its output in $SMITH_STATE/logs/NAME.log;
# when it fails, show the log's end and fail.
logged() {
	local log="$SMITH_STATE/logs/$1.log"
	shift
	mkdir -p "$SMITH_STATE/logs"
	"$@" >"$log" 2>&1 && return 0
	tail -20 "$log"
	return 1
}

# rpm_dbpath ROOT: make Debian's rpm in ROOT keep its database where RHEL's
# does (/var/lib/rpm); Debian's default asks bash for ~/.rpmdb.
rpm_dbpath() {
	mkdir -p "$1/etc/rpm"
	printf '%%_dbpath /var/lib/rpm\n' >"$1/etc/rpm/macros"
}

# debootstrap_tarball TARBALL ARCH INCLUDE [PATH...]: debootstrap Debian
# $SUITE (default bookworm; minbase + INCLUDE, comma-separated) for ARCH into
# a rootfs and pack it into TARBALL, unless TARBALL exists (it is the cache).
# PATHs inside the rootfs (globs allowed) are removed first, besides apt's
# caches.
debootstrap_tarball() {
	local tarball=$1 arch=$2 include=$3 work suite=${SUITE:-bookworm}
	shift 3
	[ -s "$tarball" ] && return 0
	log "debootstrap Debian $suite $arch (minbase + $include) from $DEBIAN_MIRROR"
	mkdir -p "$SMITH_STATE" "$(dirname "$tarball")"
	work=$(mktemp -d "$SMITH_STATE/debootstrap.XXXXXX")
	# Another CPU's root is only unpacked (the first stage): its packages'
	# files are there, but nothing of it runs here, so none is configured.
	local foreign=
	case $arch in amd64 | i386) ;; *) foreign=--foreign ;; esac
	# shellcheck disable=SC2086 # foreign is empty or one word
	if ! logged "debootstrap-$(basename "$tarball" .tar)" \
		debootstrap $foreign --arch="$arch" --variant=minbase --include="$include" "$suite" "$work/rootfs" "$DEBIAN_MIRROR"; then
		rm -rf "$work"
		die "debootstrap failed"
	fi
	local p
	for p in var/cache/apt/archives/'*.deb' var/lib/apt/lists/'*' "$@"; do
		# shellcheck disable=SC2086 # p is a glob on purpose
		rm -rf "$work/rootfs/"$p
	done
	tar -C "$work/rootfs" --numeric-owner --xattrs -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$work"
}

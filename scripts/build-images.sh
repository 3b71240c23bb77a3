#!/usr/bin/env bash
# Builds the local stand-ins for the official postgres and redis images,
# dedupsim/postgres:local and dedupsim/redis:local, for machines that cannot
# pull from a registry. Each is a Debian root file system made by mmdebstrap
# with Debian's server package, `docker import`ed, plus a small Dockerfile
# (images/<name>/) that adds an entrypoint keeping the official image's
# contract. An image whose recipe (this script, its Dockerfile and
# entrypoint, the suite and the mirror) has not changed is not rebuilt.
#
# Usage: scripts/build-images.sh [postgres] [redis]   (default: both)
# Environment: DEDUPSIM_IMAGE_SUITE (default bookworm),
#              DEDUPSIM_IMAGE_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."

suite=${DEDUPSIM_IMAGE_SUITE:-bookworm}
mirror=${DEDUPSIM_IMAGE_MIRROR:-http://deb.debian.org/debian}

say() { echo "images: $*"; }

# Each image: the Debian packages in its root file system and the hooks
# mmdebstrap runs on it ($1 is the root file system).
packages_postgres=postgresql
hooks_postgres=(
	# No cluster from the package: the entrypoint makes one on first start.
	--essential-hook='mkdir -p "$1/etc/postgresql-common/createcluster.d" &&
		echo "create_main_cluster = false" \
		>"$1/etc/postgresql-common/createcluster.d/50-no-main.conf"'
	# initdb, pg_ctl and postgres on PATH, as in the official image.
	--customize-hook='for f in "$1"/usr/lib/postgresql/*/bin/*; do
		ln -sf "${f#"$1"}" "$1/usr/local/bin/"; done'
)
packages_redis=redis-server
hooks_redis=()

need_tools() {
	if ! docker info >/dev/null 2>&1; then
		say "no Docker engine reachable (docker info failed)" >&2
		exit 2
	fi
	command -v mmdebstrap >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		say "mmdebstrap is missing: sudo apt-get install -y mmdebstrap" >&2
		exit 2
	fi
	say "installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq mmdebstrap >/dev/null; }
}

# base_recipe prints a short hash of what shapes the root file system of
# image $1; recipe, of everything that shapes the image.
base_recipe() {
	local pkgs="packages_$1" hooks="hooks_${1}[*]"
	echo "$suite $mirror ${!pkgs} ${!hooks:-}" | sha256sum | cut -c1-16
}
recipe() {
	{
		base_recipe "$1"
		cat "$0" "images/$1/Dockerfile" "images/$1/docker-entrypoint.sh"
	} | sha256sum | cut -c1-16
}

# label prints the dedupsim.recipe label of image $1, or nothing.
label() {
	docker image inspect --format '{{index .Config.Labels "dedupsim.recipe"}}' \
		"$1" 2>/dev/null || true
}

# rootfs makes the imported root file system $2 for image $1 unless the
# engine has it.
rootfs() {
	local name=$1 tag=$2 pkgs hooks tmp
	if docker image inspect "$tag" >/dev/null 2>&1; then
		say "$tag: root file system present"
		return 0
	fi
	pkgs="packages_$name"
	hooks="hooks_${name}[@]"
	tmp=$(mktemp -d)
	say "$tag: mmdebstrap $suite with ${!pkgs} from $mirror"
	mmdebstrap --quiet --variant=minbase --format=tar \
		--include="${!pkgs}" \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"${!hooks}" \
		"$suite" "$tmp/rootfs.tar" "$mirror"
	docker import "$tmp/rootfs.tar" "$tag" >/dev/null || { rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
}

# prune removes the images of repository $1 other than tag $2: root file
# systems and images of older recipes.
prune() {
	local keep
	keep=$(docker image inspect --format '{{.Id}}' "$1:$2" 2>/dev/null) || return 0
	docker images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' "$1" |
		while read -r id ref; do
			[ "$id" = "$keep" ] || docker rmi "$ref" >/dev/null 2>&1 || true
		done
}

build() {
	local name=$1 tag="dedupsim/$1:local" r base started old
	started=$(date +%s)
	r=$(recipe "$name")
	if [ "$(label "$tag")" = "$r" ]; then
		say "$tag: up to date (recipe $r)"
		return 0
	fi
	base="dedupsim/$name-rootfs:$(base_recipe "$name")"
	old=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
	rootfs "$name" "$base"
	# The classic builder: it needs no buildx plugin and no registry for
	# a local base. Its output is shown only when it fails.
	if ! DOCKER_BUILDKIT=0 docker build --quiet --build-arg "BASE=$base" \
		--build-arg "RECIPE=$r" -t "$tag" "images/$name" >/tmp/dedupsim-build.$$ 2>&1; then
		cat /tmp/dedupsim-build.$$ >&2
		rm -f /tmp/dedupsim-build.$$
		return 1
	fi
	rm -f /tmp/dedupsim-build.$$
	[ -z "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true
	prune "dedupsim/$name-rootfs" "$(base_recipe "$name")"
	say "$tag: built (recipe $r) in $(($(date +%s) - started))s"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(postgres redis)
need_tools
for n in "${names[@]}"; do
	case $n in
	postgres | redis) build "$n" ;;
	*) say "unknown image $n (known: postgres, redis)" >&2; exit 2 ;;
	esac
done

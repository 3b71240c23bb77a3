#!/usr/bin/env bash
# Makes sure the containers backend has images to run, for make test: the
# official postgres and redis images (or those $DEDUPSIM_POSTGRES_IMAGE and
# $DEDUPSIM_REDIS_IMAGE name) when the engine has them or can pull them,
# else the local stand-ins, built by scripts/build-images.sh (which skips
# what is up to date). Without a Docker engine it says so and does nothing:
# the containers backend's tests then skip, unless required.
set -euo pipefail
cd "$(dirname "$0")/.."

pg=${DEDUPSIM_POSTGRES_IMAGE:-postgres:16}
redis=${DEDUPSIM_REDIS_IMAGE:-redis:7}

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
	echo "images: no Docker engine reachable; the containers backend's tests will skip"
	exit 0
fi

have() {
	docker image inspect "$1" >/dev/null 2>&1 || docker pull -q "$1" >/dev/null 2>&1
}

if have "$pg" && have "$redis"; then
	echo "images: $pg and $redis are on the engine"
	exit 0
fi
echo "images: $pg or $redis cannot be pulled; using the local stand-ins"
exec scripts/build-images.sh

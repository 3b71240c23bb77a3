#!/usr/bin/env bash
# Makes sure Postgres server binaries (postgres, initdb) are on this machine,
# as dedupsim's embedded backend needs them. It looks where the backend
# looks: on PATH, through pg_config, and in Debian's versioned folders.
# Where none are found it installs Debian's postgresql package when run as
# root, with the package's automatic cluster turned off first so nothing is
# left listening on port 5432; otherwise it prints the install command and
# exits 2. It says what it found or did.
set -euo pipefail

has_server() { [ -x "$1/postgres" ] && [ -x "$1/initdb" ]; }

find_server() {
	local p dir
	if p=$(command -v postgres 2>/dev/null) && p=$(readlink -f "$p"); then
		has_server "$(dirname "$p")" && { dirname "$p"; return 0; }
	fi
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null || true)
		[ -n "$dir" ] && has_server "$dir" && { echo "$dir"; return 0; }
	fi
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
		has_server "$dir" && { echo "$dir"; return 0; }
	done
	return 1
}

if dir=$(find_server); then
	echo "postgres: server binaries found in $dir"
	exit 0
fi

install_cmd="apt-get update && apt-get install -y postgresql"
if [ "$(id -u)" != 0 ]; then
	echo "postgres: no server binaries (postgres, initdb) found on PATH, through" >&2
	echo "pg_config, or in /usr/lib/postgresql/*/bin. Install them with:" >&2
	echo "    sudo sh -c '$install_cmd'" >&2
	exit 2
fi

echo "postgres: no server binaries found; installing Debian's postgresql package"
# Stop the package from creating and starting its own cluster on 5432.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" \
	>/etc/postgresql-common/createcluster.d/50-dedupsim-no-main-cluster.conf
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
dir=$(find_server) || { echo "postgres: install finished but no server binaries found" >&2; exit 2; }
echo "postgres: installed; server binaries in $dir (no cluster created, nothing started)"

#!/usr/bin/env bash
# Starts a Redis and a PostgreSQL server on loopback for the external
# backend's tests, from Debian's packages (installed when missing, as
# root), and prints the URLs to export:
#
#   eval "$(scripts/start-servers.sh)"
#
# Servers already answering on the ports are reused. Redis keeps nothing on
# disk; PostgreSQL's data lives in $DEDUPSIM_PG_DIR (default
# /var/tmp/dedupsim-servers/pg), with fsync off: these servers hold only
# test data. The role and database are both "dedupsim".
set -euo pipefail

redis_port=${DEDUPSIM_REDIS_PORT:-6379}
pg_port=${DEDUPSIM_PG_PORT:-5432}
pg_dir=${DEDUPSIM_PG_DIR:-/var/tmp/dedupsim-servers/pg}
password=dedupsim

say() { echo "servers: $*" >&2; }

install() {
	if [ "$(id -u)" != 0 ]; then
		say "missing $*; install with: sudo apt-get install -y $*"
		exit 2
	fi
	say "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	# No cluster from the package: this script makes its own.
	mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" \
		>/etc/postgresql-common/createcluster.d/50-dedupsim-no-main-cluster.conf
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

start_redis() {
	command -v redis-server >/dev/null || install redis-server
	if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
		say "redis already answers on 127.0.0.1:$redis_port"
		return 0
	fi
	redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes \
		--save '' --appendonly no --logfile /tmp/dedupsim-redis.log
	for _ in $(seq 50); do
		redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && {
			say "redis started on 127.0.0.1:$redis_port"
			return 0
		}
		sleep 0.1
	done
	say "redis did not start; see /tmp/dedupsim-redis.log"
	exit 1
}

pg_bin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V | tail -1
}

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start_postgres() {
	[ -n "$(pg_bin)" ] || install postgresql
	local bin
	bin=$(pg_bin)
	if "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
		say "postgres already answers on 127.0.0.1:$pg_port"
	else
		if [ ! -s "$pg_dir/PG_VERSION" ]; then
			mkdir -p "$pg_dir"
			[ "$(id -u)" = 0 ] && chown postgres:postgres "$pg_dir"
			as_postgres "$bin/initdb" -D "$pg_dir" -U postgres \
				--auth-local=trust --auth-host=scram-sha-256 >/dev/null
		fi
		as_postgres "$bin/pg_ctl" -D "$pg_dir" -l "$pg_dir/server.log" -w start \
			-o "-c listen_addresses=127.0.0.1 -p $pg_port -k /tmp \
			-c max_connections=300 -c fsync=off -c synchronous_commit=off" \
			>/dev/null
		say "postgres started on 127.0.0.1:$pg_port (data in $pg_dir)"
	fi
	as_postgres "$bin/psql" -q -h /tmp -p "$pg_port" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT 'CREATE ROLE dedupsim LOGIN PASSWORD ''$password'''
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dedupsim')\gexec
SELECT 'CREATE DATABASE dedupsim OWNER dedupsim'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'dedupsim')\gexec
SQL
}

start_redis
start_postgres
echo "export REDIS_URL=redis://127.0.0.1:$redis_port/0"
echo "export DATABASE_URL=postgres://dedupsim:$password@127.0.0.1:$pg_port/dedupsim?sslmode=disable"

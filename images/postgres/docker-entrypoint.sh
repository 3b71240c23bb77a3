#!/bin/bash
# Starts PostgreSQL the way the official image does: on first start it runs
# initdb as the postgres user with POSTGRES_USER and POSTGRES_PASSWORD,
# starts a temporary server on the Unix socket only to create POSTGRES_DB,
# stops it, and then runs the real server listening on every address. So
# "database system is ready to accept connections" is logged twice on a
# first start, and TCP connections succeed only once the real server runs.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
	exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# As root: make the folders the server needs, then run again as postgres.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

init_cluster() {
	local user=${POSTGRES_USER:-postgres}
	local db=${POSTGRES_DB:-$user}
	local method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != trust ]; then
		echo "error: POSTGRES_PASSWORD is not set" \
			"(or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
		exit 1
	fi
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS holds several words
	initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
		--auth-local=trust --auth-host="$method" ${POSTGRES_INITDB_ARGS:-}
	printf 'host all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"

	pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
	if [ "$db" != postgres ]; then
		psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
			--set=db="$db" <<<'CREATE DATABASE :"db";'
	fi
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo "PostgreSQL init process complete; ready for start up."
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	init_cluster
fi
shift
exec postgres -c listen_addresses='*' "$@"

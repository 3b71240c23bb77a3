#!/bin/sh
# Starts redis-server the way the official image does: as the redis user,
# in /data, with any arguments passed on, listening on every address with
# protected mode off.
set -eu

case "${1:-}" in
-*) set -- redis-server "$@" ;;
esac
if [ "${1:-}" != redis-server ]; then
	exec "$@"
fi
shift
if [ "$(id -u)" = 0 ]; then
	exec setpriv --reuid=redis --regid=redis --init-groups \
		redis-server --bind 0.0.0.0 --protected-mode no --dir /data "$@"
fi
exec redis-server --bind 0.0.0.0 --protected-mode no --dir /data "$@"

#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback (used by .ci/run, the fault tests and the bench).
#   scripts/throwaway-postgres.sh start DIR PORT   -> creates (first time) and starts; prints its URL
#   scripts/throwaway-postgres.sh halt DIR         -> stops it, keeping the data (fault tests)
#   scripts/throwaway-postgres.sh stop DIR         -> stops it and removes the data
# PostgreSQL refuses to run as root, so the cluster runs as the `postgres` user when we are root.
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|halt|stop}; dir=${2:?data directory}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_pg "$BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_pg "$BIN/pg_ctl" -D "$dir" -l "$dir/log" -w -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c shared_preload_libraries=pg_stat_statements" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  halt)
    as_pg "$BIN/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null || true
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | halt DIR | stop DIR" >&2; exit 2 ;;
esac

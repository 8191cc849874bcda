#!/usr/bin/env bash
# The project's own PostGIS for development and tests: a private cluster reached only
# through a Unix socket in its own folder, so it never clashes with a server on port 5432.
# Usage: scripts/localdb.sh start|stop|status
# On start it writes the connection URL to .localdb-url, which settings read when
# DATABASE_URL is not set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bindir=/usr/lib/postgresql/15/bin
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root, and the work tree may sit where the postgres user
  # cannot enter (/root), so the cluster lives under postgres's home, one per checkout.
  base=/var/lib/postgresql/hazard-registry/$(printf %s "$root" | sha1sum | cut -c1-12)
  as_pg() { runuser -u postgres -- "$@"; }
else
  base=$root/.pg
  as_pg() { "$@"; }
fi
data=$base/data
sock=$base/run
url_file=$root/.localdb-url

running() { as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$base"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$base" "$(dirname "$base")"
    as_pg mkdir -p "$sock"
    as_pg "$bindir/initdb" -D "$data" -U hazards -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=reject >/dev/null
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
synchronous_commit = off
CONF
  fi
  if ! running; then
    as_pg "$bindir/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 start >/dev/null
  fi
  local psql=("$bindir/psql" -h "$sock" -U hazards -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'hazards'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE hazards"
  fi
  PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -h "$sock" -U hazards -d hazards -qtA \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  local host
  host=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$sock")
  echo "postgis://hazards@$host/hazards" >"$url_file"
}

case "${1:-start}" in
  start) start ;;
  stop) if running; then as_pg "$bindir/pg_ctl" -D "$data" -w stop >/dev/null; fi ;;
  status) if running; then echo "running: $data"; else echo "stopped: $data"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

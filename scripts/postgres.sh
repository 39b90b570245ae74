#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 for the tests: install (apt) when missing, start, stop.
# Usage: scripts/postgres.sh start|stop|url   (PG_PORT defaults to 55432, data under .ci/pg)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PG_PORT:-55432}"
DIR="$ROOT/.ci/pg"
URL="postgresql+psycopg://jsoncraft:jsoncraft@127.0.0.1:$PORT/jsoncraft"

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$found"
}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    BIN=$(pg_bin)
    if [ -z "$BIN" ]; then
      echo "==> installing PostgreSQL (apt)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      BIN=$(pg_bin)
    fi
    mkdir -p "$DIR"
    if [ "$(id -u)" = "0" ]; then chown -R postgres "$DIR"; fi
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      echo "jsoncraft" > "$DIR/pw"
      [ "$(id -u)" = "0" ] && chown postgres "$DIR/pw"
      as_postgres "$BIN/initdb" -D "$DIR/data" -U jsoncraft --pwfile="$DIR/pw" -A scram-sha-256 >/dev/null
    fi
    # Room for several web processes' pools at full size (each sizes its pool to its threads:
    # app/api/threads.py) plus the workers'; PostgreSQL's default is 100.
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
      -o "-h 127.0.0.1 -p $PORT -k $DIR -c max_connections=300" start >/dev/null
    PGPASSWORD=jsoncraft "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U jsoncraft -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='jsoncraft'" | grep -q 1 || \
      PGPASSWORD=jsoncraft "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U jsoncraft jsoncraft
    echo "$URL"
    ;;
  stop)
    BIN=$(pg_bin)
    if [ -n "$BIN" ] && [ -f "$DIR/data/postmaster.pid" ]; then
      as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac

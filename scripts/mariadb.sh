#!/usr/bin/env bash
# A throwaway MariaDB on 127.0.0.1 for the tests: install (apt) when missing, start, stop.
# Our own server process and datadir (.ci/mariadb), never the system service.
# Usage: scripts/mariadb.sh install|start|stop|url   (MARIADB_PORT defaults to 33306)
# `start` prints the DATABASE_URL (PyMySQL driver, utf8mb4) as its last line.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${MARIADB_PORT:-33306}"
DIR="$ROOT/.ci/mariadb"
SOCK="$DIR/mysqld.sock"
URL="mysql+pymysql://jsoncraft:jsoncraft@127.0.0.1:$PORT/jsoncraft?charset=utf8mb4"

server_bin() {
  command -v mariadbd 2>/dev/null || { [ -x /usr/sbin/mariadbd ] && echo /usr/sbin/mariadbd; } || true
}

# As root the server drops to the `mysql` user (it refuses to run as root otherwise).
run_user() {
  if [ "$(id -u)" = "0" ]; then echo mysql; else id -un; fi
}

ping() {
  mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1
}

install() {
  if [ -z "$(server_bin)" ]; then
    echo "==> installing MariaDB (apt)"
    # policy-rc.d 101: the package must not start (or enable) the system service.
    local policy=/usr/sbin/policy-rc.d created=""
    if [ "$(id -u)" = "0" ] && [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created=1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      mariadb-server mariadb-client >/dev/null
    if [ -n "$created" ]; then rm -f "$policy"; fi
  fi
}

case "${1:-}" in
  install)
    install
    ;;
  start)
    install
    mkdir -p "$DIR"
    USER_NAME=$(run_user)
    if [ "$(id -u)" = "0" ]; then chown -R mysql "$DIR"; fi
    if [ ! -d "$DIR/data/mysql" ]; then
      mariadb-install-db --no-defaults --user="$USER_NAME" --datadir="$DIR/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$DIR/install.log" 2>&1 \
        || { cat "$DIR/install.log" >&2; exit 1; }
    fi
    if ! ping; then
      # Small buffers: a test server on a shared machine. fsync per commit off (a crash loses
      # test data only). utf8mb4 everywhere, as the app's URL asks. FULLTEXT indexes words
      # from 2 characters (InnoDB's default is 3), as search finds them on SQLite/PostgreSQL.
      "$(server_bin)" --no-defaults --user="$USER_NAME" --datadir="$DIR/data" \
        --bind-address=127.0.0.1 --port="$PORT" --socket="$SOCK" --pid-file="$DIR/mysqld.pid" \
        --log-error="$DIR/error.log" --skip-name-resolve --skip-log-bin \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=32M \
        --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --innodb-ft-min-token-size=2 \
        --performance-schema=OFF --max-connections=300 >/dev/null 2>&1 &
      for _ in $(seq 150); do ping && break; sleep 0.1; done
      ping || { echo "mariadb did not start; see $DIR/error.log" >&2; tail -20 "$DIR/error.log" >&2; exit 1; }
    fi
    mariadb --no-defaults --socket="$SOCK" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS jsoncraft CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'jsoncraft'@'127.0.0.1' IDENTIFIED BY 'jsoncraft';
CREATE USER IF NOT EXISTS 'jsoncraft'@'localhost' IDENTIFIED BY 'jsoncraft';
GRANT ALL PRIVILEGES ON jsoncraft.* TO 'jsoncraft'@'127.0.0.1';
GRANT ALL PRIVILEGES ON jsoncraft.* TO 'jsoncraft'@'localhost';
SQL
    echo "$URL"
    ;;
  stop)
    if ping; then
      mariadb-admin --no-defaults --socket="$SOCK" -uroot shutdown >/dev/null 2>&1 || true
    fi
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 install|start|stop|url" >&2
    exit 2
    ;;
esac

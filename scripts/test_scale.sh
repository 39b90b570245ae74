#!/usr/bin/env bash
# The scaled-out deployment under load (`make test-scale`): install, start PostgreSQL, Redis and
# the S3 server on loopback, then run benchmarks/scale (two Reflex backends, two queue workers,
# 50 simulated people for 2 minutes, one worker SIGKILLed halfway) and stop everything, also
# on failure or Ctrl-C.
#   scripts/test_scale.sh [--users 50] [--seconds 120] [--ports 57020,57021]
# Ports: PG_PORT (57010) and REDIS_PORT (57011) for this run's own servers; S3 picks free ones.
# SCALE_SKIP_INSTALL=1 skips the install step (when `make test` has just run it).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

export PG_PORT="${PG_PORT:-57010}" REDIS_PORT="${REDIS_PORT:-57011}"
export S3_DIR="${S3_DIR:-$ROOT/.ci/s3-scale}"

if [ "${SCALE_SKIP_INSTALL:-}" != "1" ]; then
  scripts/install.sh --dev
fi

cleanup() {
  scripts/postgres.sh stop || true
  scripts/redis.sh stop || true
  scripts/s3.sh stop || true
}
trap cleanup EXIT INT TERM
cleanup  # servers a killed earlier run left behind

echo "==> starting PostgreSQL ($PG_PORT), Redis ($REDIS_PORT) and the S3 server on 127.0.0.1"
DATABASE_URL="$(scripts/postgres.sh start | tail -n 1)"
REDIS_URL="$(scripts/redis.sh start | tail -n 1)"
export DATABASE_URL REDIS_URL
set -a
# shellcheck disable=SC1090
source <(scripts/s3.sh start | grep '^S3_')
set +a
# A fresh database each run: the checks read every ledger and delivery of this run.
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null
.venv/bin/python - <<'PY'
import os
from sqlalchemy import create_engine, text
engine = create_engine(os.environ["DATABASE_URL"])
with engine.begin() as conn:
    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
PY

echo "==> the load test"
.venv/bin/python -m benchmarks.scale "$@"

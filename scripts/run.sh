#!/usr/bin/env bash
# Install, migrate, seed the demo gallery, start the job worker and the app on http://localhost:3000.
#   scripts/run.sh          a production build: Reflex serves the frontend and the backend on one port (3000)
#   scripts/run.sh --dev    the dev server with hot reload (frontend :3000, backend :8000), for working on the code
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

MODE=prod
if [ "${1:-}" = "--dev" ]; then
  MODE=dev
fi

scripts/install.sh
echo "==> migrating the database and seeding demo data"
.venv/bin/python -m app.cli migrate
.venv/bin/python -m app.cli seed

# Every process (the backend's workers, the job worker and its image pool) writes its metrics
# into this folder and /metrics adds them up; counts from a previous run must not come back.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$ROOT/data/metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

echo "==> starting the job worker"
.venv/bin/python -m app.cli worker &
WORKER_PID=$!
trap 'kill "$WORKER_PID" 2>/dev/null || true' EXIT INT TERM

echo "==> starting JSONCraft ($MODE) on http://localhost:3000"
if [ "$MODE" = "prod" ]; then
  export API_URL="${API_URL:-http://localhost:3000}"
  .venv/bin/reflex run --env prod --frontend-port 3000 --backend-port 3000
else
  # Hot reload watches only the code (rxconfig.py says which folders): the data folder, where SQLite's
  # WAL files change on every queue poll, would otherwise restart the backend every few seconds.
  export API_URL="${API_URL:-http://localhost:8000}"
  .venv/bin/reflex run --env dev --frontend-port 3000 --backend-port 8000
fi

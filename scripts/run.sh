#!/usr/bin/env bash
# Install, migrate, seed the demo gallery, start the job worker and the app on http://localhost:3000.
# JSONCRAFT_ENV=prod runs `reflex run --env prod` (a production build) instead of the dev server.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

scripts/install.sh
echo "==> migrating the database and seeding demo data"
.venv/bin/python -m app.cli migrate
.venv/bin/python -m app.cli seed

echo "==> starting the job worker"
.venv/bin/python -m app.cli worker &
WORKER_PID=$!
trap 'kill "$WORKER_PID" 2>/dev/null || true' EXIT INT TERM

MODE="${JSONCRAFT_ENV:-dev}"
echo "==> starting JSONCraft ($MODE) on http://localhost:3000"
if [ "$MODE" = "prod" ]; then
  # A production build: Reflex serves the frontend and the backend on one port.
  export API_URL="${API_URL:-http://localhost:3000}"
  .venv/bin/reflex run --env prod --frontend-port 3000 --backend-port 3000
else
  .venv/bin/reflex run --env dev --frontend-port 3000 --backend-port 8000
fi

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

echo "==> starting JSONCraft on http://localhost:3000"
.venv/bin/reflex run --env "${JSONCRAFT_ENV:-dev}" --frontend-port 3000 --backend-port 8000

#!/usr/bin/env bash
# Install everything (with dev tools and Debian chromium), then ruff, mypy on app/services, the
# import contracts (lint-imports) and pytest:
# unit tests, integration tests on a real PostgreSQL, MariaDB, S3 server and clamd, and browser
# tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

scripts/install.sh --dev

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Debian's ClamAV for the upload scanner tests (a pytest fixture starts clamd with its own
# test signatures and stops it).
scripts/clamav.sh install

echo "==> ruff"
.venv/bin/ruff check app tests benchmarks
.venv/bin/ruff format --check app tests benchmarks
echo "==> actionlint (.github/workflows: CI for the project's users, which can't run here)"
.venv/bin/actionlint -color=false
echo "==> mypy app/services"
.venv/bin/mypy app/services
echo "==> lint-imports (the import contracts in pyproject.toml)"
.venv/bin/lint-imports

echo "==> starting PostgreSQL and MariaDB on 127.0.0.1 (the S3, Redis and clamd servers are started by pytest fixtures)"
cleanup() {
  scripts/postgres.sh stop || true; scripts/mariadb.sh stop || true
  scripts/s3.sh stop || true; scripts/redis.sh stop || true
}
trap cleanup EXIT
scripts/mariadb.sh install
TEST_PG_URL="$(scripts/postgres.sh start | tail -n 1)"
TEST_MARIADB_URL="$(scripts/mariadb.sh start | tail -n 1)"
export TEST_PG_URL TEST_MARIADB_URL

echo "==> pytest"
.venv/bin/python -m pytest "$@"

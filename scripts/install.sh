#!/usr/bin/env bash
# Install everything the app needs: .venv with pinned Python packages, and bun from the npm registry.
# Usage: scripts/install.sh [--dev]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "==> installing Python packages"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
# The `jsoncraft` command (pyproject's [project.scripts]), built with the pinned setuptools.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
fi

echo "==> installing bun (npm registry) for the frontend build"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: installing Node.js from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
(cd tools && npm ci --no-audit --no-fund --loglevel=error)
bun --version >/dev/null

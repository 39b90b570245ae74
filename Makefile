# One target per job. `make run` and `make test` are the README's two Quick start commands.
.PHONY: run dev test test-scale install install-dev migrate seed worker lint format typecheck unit bench clean

run:            ## install, migrate, seed, start the worker and a production build of the app on :3000
	scripts/run.sh

dev:            ## the same with Reflex's dev server and hot reload (frontend :3000, backend :8000)
	scripts/run.sh --dev

test:           ## install (dev + chromium), ruff, mypy, import contracts, pytest (unit, integration, browser)
	scripts/test.sh

test-scale:     ## install, then 2 backends + 2 workers on PostgreSQL, Redis, S3 under 50 users for 2 min
	scripts/test_scale.sh

install:        ## .venv + pinned packages + bun
	scripts/install.sh

install-dev:
	scripts/install.sh --dev

migrate:
	.venv/bin/python -m app.cli migrate

seed:
	.venv/bin/python -m app.cli seed

worker:
	.venv/bin/python -m app.cli worker

lint:
	.venv/bin/ruff check app tests benchmarks && .venv/bin/ruff format --check app tests benchmarks
	.venv/bin/lint-imports

format:
	.venv/bin/ruff format app tests benchmarks && .venv/bin/ruff check --fix app tests benchmarks

typecheck:
	.venv/bin/mypy app/services

unit:           ## fast: unit tests only, no servers
	.venv/bin/python -m pytest tests/unit

clean:
	rm -rf .web .states .ci/pg .ci/s3 .ci/mariadb data

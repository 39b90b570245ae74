"""A web process runs blocking handlers on WEB_THREADS threads, and its database pool has room
for all of them (and asyncio's executor threads) to hold their connections at once.

Found by make test-scale: with Starlette's 40 threads over a 15-connection pool, requests that
held one connection and waited for a second (the credit ledger's own) starved each other for the
pool's 30 s timeout and answered 500."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from app.api import threads
from app.services.core import db
from app.settings import reset_settings


@pytest.fixture
def four_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_THREADS", "4")
    monkeypatch.setattr(db, "_max_overflow", 10)  # the default, put back after the test
    reset_settings()


def test_the_pool_fits_every_thread_that_may_hold_connections(
    four_threads: None, tmp_path: Path
) -> None:
    threads.size_database_pool()
    engine = db.engine_for(f"sqlite:///{tmp_path / 'pool.db'}")
    try:
        capacity = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
        needed = (4 + threads._DEFAULT_EXECUTOR_THREADS) * db.CONNECTIONS_PER_THREAD
        assert capacity >= needed
    finally:
        engine.dispose()
        db.engine_for.cache_clear()


def test_the_lifespan_limits_blocking_handlers_to_web_threads(four_threads: None) -> None:
    async def main() -> int:
        async with threads.thread_limit_lifespan():
            return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    assert anyio.run(main) == 4

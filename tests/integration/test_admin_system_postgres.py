"""/admin/system's services on PostgreSQL and Redis, and the heartbeat a real queue worker
writes (tests/unit/test_admin_system.py runs the same checks on SQLite)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlmodel import Session, select

from app.services.core.db import engine_for
from app.services.core.health import check_health
from app.services.core.models import WorkerHeartbeat
from app.services.core.queue import get_huey
from app.services.worker.tasks import tasks_for
from app.settings import get_settings, reset_settings
from tests.integration.test_jobs_redis import redis_server  # noqa: F401 (a fixture)
from tests.unit.test_admin_system import (
    check_error_search,
    check_failing_webhooks,
    check_heartbeats,
    check_outbox,
    check_provider_rates,
    check_queue_depth_and_oldest,
)
from tests.utils.job_helpers import Worker, worker_env

pytestmark = pytest.mark.integration


def test_error_search(pg_session: Session) -> None:
    check_error_search(pg_session)


def test_heartbeats(pg_session: Session) -> None:
    check_heartbeats(pg_session)


def test_failing_webhooks(pg_session: Session) -> None:
    check_failing_webhooks(pg_session)


def test_provider_rates(pg_session: Session) -> None:
    check_provider_rates(pg_session)


def test_outbox(pg_session: Session) -> None:
    check_outbox(pg_session)


@pytest.fixture
def on_redis(
    redis_server: str,  # noqa: F811
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    redis.Redis.from_url(redis_server).flushdb()
    monkeypatch.setenv("REDIS_URL", redis_server)
    reset_settings()
    yield redis_server
    redis.Redis.from_url(redis_server).flushdb()


def test_queue_depth_and_oldest_task_on_redis(on_redis: str) -> None:
    check_queue_depth_and_oldest()
    report = check_health()
    assert report.checks["redis"]["status"] == "up"
    assert report.ok


def _rows(url: str) -> list[WorkerHeartbeat]:
    with Session(engine_for(url), expire_on_commit=False) as session:
        return list(session.exec(select(WorkerHeartbeat)).all())


def _wait(check, what: str, worker: Worker, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker output:\n{worker.output()}")
        time.sleep(0.1)


def test_a_real_worker_writes_its_heartbeat_and_removes_it_on_exit(
    pg_url: str, tmp_path: Path
) -> None:
    settings = get_settings()
    worker = Worker(worker_env(settings, WORKER_HEARTBEAT_SECONDS="0.5"), tmp_path / "worker.log")
    try:
        _wait(lambda: len(_rows(pg_url)) == 1, "the first heartbeat", worker)
        row = _rows(pg_url)[0]
        assert (row.pid, row.tasks_done) == (worker.process.pid, 0)
        assert row.id.startswith(f"{row.hostname}:{worker.process.pid}:")
        first_seen = row.last_seen_at
        # A task through the real queue: the next beat counts it.
        tasks_for(get_huey()).recover()
        _wait(lambda: _rows(pg_url)[0].tasks_done >= 1, "the task counted", worker)
        assert _rows(pg_url)[0].last_seen_at > first_seen
        os.killpg(worker.process.pid, signal.SIGTERM)
        worker.process.wait(timeout=30)
        assert worker.process.returncode == 0, worker.output()
        assert _rows(pg_url) == []  # a clean exit leaves no row behind
    finally:
        worker.stop()

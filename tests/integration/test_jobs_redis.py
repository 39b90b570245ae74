"""Redis mode: one queue, two worker processes, a shared PostgreSQL and storage folder."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlmodel import Session, col, select

from app.services.core.db import engine_for
from app.services.core.models import Job, JobItem
from app.services.core.queue import get_huey
from app.services.studio import jobs
from app.settings import Settings, get_settings, reset_settings
from tests.utils.job_helpers import (
    Worker,
    make_user,
    noisy_photo,
    spec,
    uploads,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
WORK = {
    "resize": {"mode": "exact", "width": 1200, "height": 900},
    "filters": [{"name": "sharpen"}],
    "convert": {"format": "png"},
}


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A real Redis on 127.0.0.1 (scripts/redis.sh installs it with apt when missing)."""
    script = ROOT / "scripts" / "redis.sh"
    started = subprocess.run(
        [str(script), "start"], capture_output=True, text=True, timeout=300, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/redis.sh start failed:\n{started.stdout}\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(script), "stop"], timeout=30, check=False)


@pytest.fixture
def redis_url(redis_server: str, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This test's queue on Redis (emptied first), with the PostgreSQL database."""
    redis.Redis.from_url(redis_server).flushdb()
    monkeypatch.setenv("REDIS_URL", redis_server)
    reset_settings()
    yield redis_server
    redis.Redis.from_url(redis_server).flushdb()


@pytest.fixture
def workers(isolated_settings: Settings) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.returncode is None:
            worker.stop()


def test_now_jobs_jump_ahead_of_batch_jobs_on_redis(redis_url: str) -> None:
    with Session(engine_for(get_settings().resolved_database_url)) as session:
        pro = make_user(session, "pro@example.com", plan="pro")
        batch = jobs.create_job(
            session,
            user=pro,
            spec=spec(),
            uploads=uploads(("a.jpg", noisy_photo((64, 48)))),
            mode="batch",
        )
        now = jobs.create_job(
            session,
            user=pro,
            spec=spec(),
            uploads=uploads(("b.jpg", noisy_photo((64, 48)))),
            mode="now",
        )
    huey = get_huey()
    assert type(huey).__name__ == "PriorityRedisHuey"
    first, second = huey.dequeue(), huey.dequeue()
    assert (first.args, second.args) == ((now.id,), (batch.id,))


def test_two_workers_share_the_queue_and_run_each_image_once(
    redis_url: str, isolated_settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    settings = get_settings()
    engine = engine_for(settings.resolved_database_url)
    ids: list[int] = []
    with Session(engine, expire_on_commit=False) as session:
        for n in range(2):
            user = make_user(session, f"user{n}@example.com", plan="pro")
            for j in range(3):
                files = [
                    (f"u{n}j{j}i{i}.jpg", noisy_photo((1400, 1000), seed=n * 10 + j + i))
                    for i in range(4)
                ]
                ids.append(
                    jobs.create_job(
                        session, user=user, spec=spec(WORK), uploads=uploads(*files), mode="now"
                    ).id
                )
    assert get_huey().pending_count() == 6

    env = worker_env(settings, REDIS_URL=redis_url, IMAGEOPS_WORKERS="1")
    workers.extend(Worker(env, tmp_path / f"worker{n}.log") for n in range(2))

    def finished() -> bool:
        with Session(engine) as session:
            statuses = session.exec(select(Job.status).where(col(Job.id).in_(ids))).all()
        return all(s == "done" for s in statuses)

    wait_for(finished, timeout=300, what="six jobs on two workers", workers=workers)
    with Session(engine) as session:
        items = session.exec(select(JobItem).where(col(JobItem.job_id).in_(ids))).all()
        holders = session.exec(select(Job.worker_id).where(col(Job.id).in_(ids))).all()
    assert len(items) == 24
    assert all(i.status == "done" and i.attempts == 1 and i.outputs for i in items)
    pids = {str(w.process.pid) for w in workers}
    used = {holder.split(":")[1] for holder in holders if holder}
    assert used == pids, f"both workers should have run jobs, got {used} of {pids}"
    assert get_huey().pending_count() == 0

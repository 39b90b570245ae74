"""A real worker (`python -m app.cli worker`) is killed mid-job; the next one finishes the job
without losing or repeating any image, and the credits are settled once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from app.services.billing import credits, pricing
from app.services.core.models import CreditEntry, Job, JobItem
from app.services.core.storage import get_storage
from app.services.studio import jobs
from app.settings import Settings
from tests.utils.job_helpers import (
    Worker,
    make_user,
    noisy_photo,
    queued_tasks,
    spec,
    uploads,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration
HEAVY = {
    "resize": {"mode": "exact", "width": 1500, "height": 1100},
    "filters": [{"name": "sharpen"}, {"name": "blur", "amount": 2}],
    "convert": {"format": "png"},
}


@pytest.fixture
def workers(isolated_settings: Settings) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.returncode is None:
            worker.stop()


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_stopped_worker_loses_nothing_and_repeats_nothing(
    how: str,
    session: Session,
    isolated_settings: Settings,
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    """SIGKILL: the job stays "running" under a dead worker until the next worker starts and
    sees its process is gone. SIGTERM: the worker hands the job back to the queue as it stops."""
    admin = make_user(session, "boss@example.com", role="admin")
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=1)
    session.commit()
    user = make_user(session, "ada@example.com", plan="pro", balance=100)
    # This month's plan credits up front: the worker's maintenance (every 15 minutes by the
    # clock) would otherwise grant them in the middle of the test when it runs at :00, :15...
    pricing.grant_monthly_credits(session, user=user)
    session.commit()
    start = credits.balance(session, user_id=user.id or 0)
    count = 30
    files = [(f"photo{i:02d}.jpg", noisy_photo((1600, 1200), seed=i)) for i in range(count)]
    view = jobs.create_job(
        session, user=user, spec=spec(HEAVY), uploads=uploads(*files), mode="now"
    )
    assert credits.balance(session, user_id=user.id or 0) == start - count

    def items() -> list[JobItem]:
        session.expire_all()
        return list(
            session.exec(
                select(JobItem).where(JobItem.job_id == view.id).order_by(col(JobItem.position))
            )
        )

    env = worker_env(isolated_settings, JOB_STALE_SECONDS="60")
    first = Worker(env, tmp_path / "worker1.log")
    workers.append(first)
    wait_for(
        lambda: sum(i.status == "done" for i in items()) >= 4,
        timeout=180,
        what="the first images",
        workers=workers,
    )
    if how == "SIGKILL":
        first.kill()
    else:
        first.stop()
        assert first.process.returncode == 0, "the worker should stop on SIGTERM by itself"

    before = {i.position: i for i in items()}
    done_before = {
        p: (i.finished_at, i.attempts, i.outputs) for p, i in before.items() if i.status == "done"
    }
    assert 4 <= len(done_before) < count, "the job must be mid-way when the worker dies"
    job = session.get(Job, view.id)
    assert job is not None
    session.refresh(job)
    if how == "SIGKILL":
        assert job.status == "running" and str(first.process.pid) in (job.worker_id or "")
    else:
        assert job.status == "queued" and job.worker_id is None
        assert [t.args[0] for t in queued_tasks()] == [view.id]

    second = Worker(env, tmp_path / "worker2.log")
    workers.append(second)
    wait_for(
        lambda: jobs.get_job(session, user=user, job_id=view.id).status == "done",
        timeout=300,
        what="the job to finish on the second worker",
        workers=workers,
    )
    second.stop()

    after = items()
    assert [(i.status, i.error) for i in after] == [("done", None)] * count
    for item in after:
        if item.position in done_before:
            # Done before the kill: untouched since.
            assert (item.finished_at, item.attempts, item.outputs) == done_before[item.position]
        else:
            # In flight at the kill (run again) or not started yet (run once).
            assert item.attempts in (1, 2)
        assert [o["name"] for o in item.outputs] == [f"photo{item.position:02d}.png"]
        assert all(get_storage().exists(o["key"]) for o in item.outputs)
    assert sum(i.attempts == 2 for i in after) <= 4  # at most the images that were in flight

    session.refresh(job)
    assert job.attempts == 2 and job.credits_charged == count
    assert str(second.process.pid) in (job.worker_id or "")
    assert credits.balance(session, user_id=user.id or 0) == start - count
    ledger = session.exec(
        select(CreditEntry).where(col(CreditEntry.idempotency_key).contains(job.token or "-"))
    ).all()
    assert sorted(e.kind for e in ledger) == ["commit", "reserve"]  # settled exactly once

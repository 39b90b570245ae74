"""Jobs survive dead workers, lost queue entries and flaky storage; maintenance purges old jobs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services.billing import credits, pricing
from app.services.core.errors import InvalidInputError, LeaseLostError
from app.services.core.models import Job, JobItem, User, utcnow
from app.services.core.queue import get_huey
from app.services.core.storage import get_storage
from app.services.studio import jobs
from app.services.studio.jobs.lease import claim, heartbeat, holder_is_dead, release, touch
from app.services.studio.jobs.runner import MISSING_INPUT
from app.services.worker.maintenance import run_maintenance
from app.settings import Settings, reset_settings
from tests.utils.images import truncated_jpeg
from tests.utils.job_helpers import (
    make_user,
    photo,
    queued_tasks,
    run_queue,
    run_retries,
    spec,
    uploads,
)

HOST = socket.gethostname()[:60]


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", plan="pro", balance=100)


def _new_job(session: Session, user: User, count: int = 3) -> int:
    files = [(f"p{i}.jpg", photo()) for i in range(count)]
    return jobs.create_job(session, user=user, spec=spec(), uploads=uploads(*files), mode="now").id


def _job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    assert job is not None
    session.refresh(job)
    return job


def _items(session: Session, job_id: int) -> list[JobItem]:
    session.expire_all()
    return list(
        session.exec(
            select(JobItem).where(JobItem.job_id == job_id).order_by(col(JobItem.position))
        )
    )


def _dead_worker_id() -> str:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"{HOST}:{child.stdout.strip()}:dead"


def _set(session: Session, job_id: int, **values: object) -> None:
    session.exec(update(Job).where(col(Job.id) == job_id).values(**values))
    session.commit()


def test_a_dead_workers_job_resumes_where_it_stopped(session: Session, ada: User) -> None:
    job_id = _new_job(session, ada)
    get_huey().flush()  # the dead worker had taken the task off the queue
    dead = _dead_worker_id()
    assert holder_is_dead(dead)
    assert claim(session, job_id=job_id, worker_id=dead)
    # It had finished the first image before it died.
    first = _items(session, job_id)[0]
    session.exec(
        update(JobItem)
        .where(col(JobItem.id) == first.id)
        .values(status="done", attempts=1, outputs=[], finished_at=utcnow())
    )
    session.exec(
        update(JobItem)
        .where(col(JobItem.position) == 1, col(JobItem.job_id) == job_id)
        .values(status="running", attempts=1)
    )
    session.commit()
    assert jobs.get_job(session, user=ada, job_id=job_id).status == "running"

    assert jobs.recover_jobs() == [job_id]  # dead at once: its process is gone from this host
    assert _job(session, job_id).worker_id is None and _job(session, job_id).status == "queued"
    assert [t.args[0] for t in queued_tasks()] == [job_id]
    assert jobs.recover_jobs() == []  # idempotent
    run_queue()
    items = _items(session, job_id)
    assert [i.status for i in items] == ["done", "done", "done"]
    assert [i.attempts for i in items] == [1, 2, 1]  # the first one was not done again
    assert _job(session, job_id).attempts == 2


def test_heartbeats_decide_who_is_stale(
    session: Session, ada: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    far_fresh, far_stale, near_stale, near_alive = (_new_job(session, ada, 1) for _ in range(4))
    get_huey().flush()
    me = f"{HOST}:{os.getpid()}:alive"
    for job_id, worker in (
        (far_fresh, "otherhost:1:a"),
        (far_stale, "otherhost:1:b"),
        (near_stale, me),
        (near_alive, me),
    ):
        assert claim(session, job_id=job_id, worker_id=worker)
    old = utcnow() - timedelta(seconds=121)
    _set(session, far_stale, heartbeat_at=old)
    _set(session, near_stale, heartbeat_at=old)  # alive but hung: the heartbeat decides
    assert sorted(jobs.recover_jobs()) == sorted([far_stale, near_stale])
    # A longer staleness setting keeps the hung one where it is.
    monkeypatch.setenv("JOB_STALE_SECONDS", "3600")
    reset_settings()
    _set(session, near_alive, heartbeat_at=old)
    assert jobs.recover_jobs() == []


def test_a_job_missing_from_the_queue_is_queued_again_once(session: Session, ada: User) -> None:
    lost, kept = _new_job(session, ada, 1), _new_job(session, ada, 1)
    huey = get_huey()
    huey.flush()
    jobs.dispatch.enqueue(kept, mode="now")
    long_ago = utcnow() - timedelta(minutes=10)
    _set(session, lost, heartbeat_at=long_ago)
    _set(session, kept, heartbeat_at=long_ago)
    assert jobs.recover_jobs() == [lost]
    assert sorted(t.args[0] for t in queued_tasks()) == sorted([lost, kept])
    assert jobs.recover_jobs() == []
    run_queue()
    assert {_job(session, lost).status, _job(session, kept).status} == {"done"}


def test_a_worker_that_lost_its_job_stops_writing(session: Session, ada: User) -> None:
    job_id = _new_job(session, ada, 1)
    assert claim(session, job_id=job_id, worker_id="w1:1:a")
    assert not claim(session, job_id=job_id, worker_id="w2:1:b")  # held
    assert release(session, job_id=job_id, worker_id="w1:1:a")
    assert claim(session, job_id=job_id, worker_id="w2:1:b")
    with pytest.raises(LeaseLostError):
        touch(session, job_id=job_id, worker_id="w1:1:a")
    session.rollback()
    assert jobs.run_job(job_id, worker_id="w1:1:a") == "skipped"
    assert _job(session, job_id).worker_id == "w2:1:b"


def test_the_heartbeat_keeps_a_long_job_fresh(
    session: Session, ada: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOB_STALE_SECONDS", "5")  # a beat every 1.25 s
    reset_settings()
    job_id = _new_job(session, ada, 1)
    assert claim(session, job_id=job_id, worker_id="w:1:a")
    before = _job(session, job_id).heartbeat_at
    with heartbeat(job_id, "w:1:a") as lost:
        time.sleep(2.8)
        assert not lost.is_set()
    after = _job(session, job_id).heartbeat_at
    assert before is not None and after is not None and after - before >= timedelta(seconds=2)
    assert release(session, job_id=job_id, worker_id="w:1:a")
    assert claim(session, job_id=job_id, worker_id="other:1:b")
    with heartbeat(job_id, "w:1:a") as lost:
        assert lost.wait(5)  # the next beat finds the job taken


def test_a_storage_failure_is_retried_and_the_job_resumes(
    session: Session, ada: User, isolated_settings: Settings
) -> None:
    job_id = _new_job(session, ada, 2)
    token = _job(session, job_id).token
    blocker = isolated_settings.storage_dir / "jobs" / str(token) / "out"
    blocker.write_bytes(b"")  # a file where the output folder should go: writes fail
    run_queue()
    job = _job(session, job_id)
    assert (job.status, job.worker_id, job.finished_at) == ("queued", None, None)
    assert [i.status for i in _items(session, job_id)] == ["queued", "queued"]
    [retry] = get_huey().scheduled()
    assert retry.args == (job_id,) and retry.retries == 3  # one of four used
    blocker.unlink()
    run_retries()
    assert _job(session, job_id).status == "done"
    assert [i.status for i in _items(session, job_id)] == ["done", "done"]


def test_the_last_attempt_fails_the_job_and_refunds_the_rest(
    session: Session, ada: User, isolated_settings: Settings
) -> None:
    admin = make_user(session, "boss@example.com", role="admin")
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=2)
    session.commit()
    job_id = _new_job(session, ada, 2)
    assert credits.balance(session, user_id=ada.id or 0) == 96
    token = _job(session, job_id).token
    (isolated_settings.storage_dir / "jobs" / str(token) / "out").write_bytes(b"")
    assert jobs.run_job(job_id, last_attempt=True) == "failed"
    view = jobs.get_job(session, user=ada, job_id=job_id)
    assert view.status == "failed" and view.error and "Ref:" in view.error
    assert view.credits_charged == 0 and credits.balance(session, user_id=ada.id or 0) == 100
    assert all(
        i.status == "failed" and (i.error or "").startswith("Not processed") for i in view.items
    )


def test_a_missing_input_fails_that_image_only(session: Session, ada: User) -> None:
    job_id = _new_job(session, ada, 2)
    first = _items(session, job_id)[0]
    assert first.input_key is not None
    get_storage().delete(first.input_key)
    run_queue()
    items = _items(session, job_id)
    assert (items[0].status, items[0].error) == ("failed", MISSING_INPUT)
    assert items[1].status == "done" and _job(session, job_id).status == "done"


def test_maintenance_purges_old_jobs_and_abandoned_uploads(
    session: Session, ada: User, isolated_settings: Settings
) -> None:
    old_id = _new_job(session, ada, 2)
    recent_id = _new_job(session, ada, 1)
    run_queue()
    old_keys = jobs.records.job_keys(session, old_id)
    assert len(old_keys) == 4 and all(get_storage().exists(k) for k in old_keys)
    _set(session, old_id, finished_at=utcnow() - timedelta(days=8))
    # A request that died while storing uploads, after reserving credits.
    abandoned = Job(
        user_id=ada.id,
        kind="studio",
        status="receiving",
        token="a" * 32,
        reservation_key="studio-job:abandoned",
        heartbeat_at=utcnow() - timedelta(hours=2),
    )
    session.add(abandoned)
    session.commit()
    credits.reserve(session, user_id=ada.id or 0, amount=7, idempotency_key="studio-job:abandoned")
    assert credits.balance(session, user_id=ada.id or 0) == 93

    result = run_maintenance()
    assert result["purged_jobs"] == 2 and result["recovered_jobs"] == 0
    session.expire_all()
    assert {j.id for j in session.exec(select(Job)).all()} == {recent_id}
    assert not any(get_storage().exists(k) for k in old_keys)
    assert session.exec(select(JobItem).where(JobItem.job_id == old_id)).all() == []
    # The 7 held credits came back (and the plan's monthly credits arrived with maintenance).
    monthly = pricing.PLANS["pro"].monthly_credits
    assert credits.balance(session, user_id=ada.id or 0) == 100 + monthly
    assert run_maintenance()["purged_jobs"] == 0
    assert jobs.get_job(session, user=ada, job_id=recent_id).status == "done"


def test_a_refused_upload_does_not_block_the_next_job(session: Session) -> None:
    free = make_user(session, "free@example.com")
    with pytest.raises(InvalidInputError):
        jobs.create_job(
            session,
            user=free,
            spec=spec(),
            uploads=uploads(("x.jpg", truncated_jpeg()[:20])),
            mode="now",
        )
    assert (
        jobs.create_job(
            session, user=free, spec=spec(), uploads=uploads(("y.jpg", photo())), mode="now"
        ).status
        == "queued"
    )

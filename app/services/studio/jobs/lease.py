"""Who holds a job: a worker claims it, proves it is alive, and hands it back.

A job is held while `jobs.worker_id` is set. Every write a holder makes is conditional on still
holding it, so a worker that was presumed dead (and whose job went to another worker) can't
overwrite the newer worker's progress: its next write finds the lease gone and it stops.

Worker ids are "<host>:<pid>:<random>". On the same host, a holder whose process is gone is
dead at once; elsewhere it is dead when its heartbeat is older than JOB_STALE_SECONDS.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, update
from sqlmodel import Session, col

from app.services.core.db import session_scope
from app.services.core.errors import LeaseLostError
from app.services.core.heartbeat import keep_alive
from app.services.core.models import Job, JobItem, utcnow
from app.services.studio.jobs.views import STUDIO_KIND, ItemStatus, JobStatus
from app.settings import get_settings

_HOST = socket.gethostname()[:60]
_PROCESS_ID = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def current_worker_id() -> str:
    # Recomputed after a fork: a child process is a different worker.
    global _PROCESS_ID
    if _PROCESS_ID.split(":")[1] != str(os.getpid()):
        _PROCESS_ID = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return _PROCESS_ID


def holder_is_dead(worker_id: str | None) -> bool:
    """True when the holder ran on this host and its process no longer exists."""
    if not worker_id:
        return False
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def stale_before(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(seconds=get_settings().job_stale_seconds)


def heartbeat_interval() -> float:
    return max(1.0, get_settings().job_stale_seconds / 4)


def claim(session: Session, *, job_id: int, worker_id: str) -> bool:
    """Take a waiting job (queued, or cancelling with nobody on it). False if someone has it,
    it finished, or it was cancelled meanwhile."""
    now = utcnow()
    changed = rows_changed(
        session,
        update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.kind) == STUDIO_KIND,
            col(Job.worker_id).is_(None),
            col(Job.status).in_([JobStatus.queued, JobStatus.cancelling]),
        )
        .values(
            worker_id=worker_id,
            status=case(
                (col(Job.status) == JobStatus.queued, JobStatus.running.value),
                else_=col(Job.status),
            ),
            heartbeat_at=now,
            started_at=case((col(Job.started_at).is_(None), now), else_=col(Job.started_at)),
            attempts=col(Job.attempts) + 1,
        ),
    )
    session.commit()
    return changed == 1


def release(session: Session, *, job_id: int, worker_id: str) -> bool:
    """Hand a held job back to the queue (status queued, or still cancelling), items in flight
    back to queued. The caller enqueues it again. False if it was not held by `worker_id`."""
    changed = rows_changed(
        session,
        update(Job)
        .where(col(Job.id) == job_id, col(Job.worker_id) == worker_id)
        .values(
            worker_id=None,
            status=case(
                (col(Job.status) == JobStatus.running, JobStatus.queued.value),
                else_=col(Job.status),
            ),
            heartbeat_at=utcnow(),
        ),
    )
    if changed == 1:
        rows_changed(
            session,
            update(JobItem)
            .where(col(JobItem.job_id) == job_id, col(JobItem.status) == ItemStatus.running)
            .values(status=ItemStatus.queued.value),
        )
    session.commit()
    return changed == 1


def touch(session: Session, *, job_id: int, worker_id: str, **values: Any) -> None:
    """Refresh the heartbeat (and set `values`) if `worker_id` still holds the job, in the
    caller's transaction; raises LeaseLostError otherwise."""
    changed = rows_changed(
        session,
        update(Job)
        .where(col(Job.id) == job_id, col(Job.worker_id) == worker_id)
        .values(heartbeat_at=utcnow(), **values),
    )
    if changed != 1:
        raise LeaseLostError(f"job {job_id} is no longer held by {worker_id}")


@contextmanager
def heartbeat(job_id: int, worker_id: str) -> Iterator[threading.Event]:
    """Keep the lease fresh from a thread while the body runs, even while one slow image
    keeps the main loop waiting. The event is set once the lease is lost."""

    def renew() -> None:
        with session_scope() as session:
            touch(session, job_id=job_id, worker_id=worker_id)

    with keep_alive(renew, interval=heartbeat_interval(), name=f"job-{job_id}") as lost:
        yield lost


def rows_changed(session: Session, statement: Any) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed. Objects already loaded in
    `session` are not refreshed: callers read what they need afterwards."""
    result = session.exec(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)

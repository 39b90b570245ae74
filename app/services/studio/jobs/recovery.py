"""Keeping the queue honest: jobs of dead workers are picked up again, old jobs are purged.

Both run from the worker (at start, and as periodic tasks) and are idempotent: running them
twice, or from two workers at once, changes nothing the first run did not.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.errors import ConflictError, NotFoundError
from app.services.core.logs import get_logger
from app.services.core.models import Job, JobItem, utcnow
from app.services.core.queue import get_huey, waiting_args
from app.services.core.storage import Storage
from app.services.studio.jobs.dispatch import RUN_TASK, enqueue
from app.services.studio.jobs.lease import holder_is_dead, release, rows_changed, stale_before
from app.services.studio.jobs.records import forget, job_keys
from app.services.studio.jobs.views import FINISHED, STUDIO_KIND, JobStatus

log = get_logger("jobs")

# A job still "receiving" this long after its last upload was stored was abandoned by a request
# that died; it never reached the queue or the ledger's charge.
ABANDONED_AFTER = timedelta(hours=1)
_HELD = (JobStatus.queued, JobStatus.running, JobStatus.cancelling)


def recover_jobs(*, now: datetime | None = None) -> list[int]:
    """Queue again every job that should be running and is not. Returns their ids.

    - A held job whose worker died (no heartbeat for JOB_STALE_SECONDS, or its process is gone
      from this host) is handed back and queued again; it resumes where it stopped.
    - A waiting job missing from the queue (lost with a killed worker that had taken it off,
      or never queued because the queue was down) is queued again.
    """
    limit = stale_before(now)
    requeue: list[tuple[int, str]] = []
    with session_scope() as session:
        held = session.exec(
            select(Job.id, Job.worker_id, Job.heartbeat_at, Job.mode).where(
                col(Job.kind) == STUDIO_KIND,
                col(Job.worker_id).is_not(None),
                col(Job.status).in_(_HELD),
            )
        ).all()
        for job_id, worker_id, beat, mode in held:
            if job_id is None or worker_id is None:
                continue
            dead = beat is None or beat < limit or holder_is_dead(worker_id)
            if dead and release(session, job_id=job_id, worker_id=worker_id):
                log.warning("job %s: worker %s stopped; queued again", job_id, worker_id)
                requeue.append((job_id, mode))
        waiting = session.exec(
            select(Job.id, Job.mode).where(
                col(Job.kind) == STUDIO_KIND,
                col(Job.worker_id).is_(None),
                col(Job.status).in_((JobStatus.queued, JobStatus.cancelling)),
                col(Job.heartbeat_at).is_(None) | (col(Job.heartbeat_at) < limit),
            )
        ).all()
        if waiting:
            in_queue = waiting_args(get_huey(), RUN_TASK)
            for job_id, mode in waiting:
                if job_id is None or job_id in in_queue:
                    continue
                if rows_changed(
                    session,
                    update(Job)
                    .where(col(Job.id) == job_id, col(Job.worker_id).is_(None))
                    .values(heartbeat_at=utcnow()),
                ):
                    log.warning("job %s was missing from the queue; queued again", job_id)
                    requeue.append((job_id, mode))
    for job_id, mode in requeue:
        enqueue(job_id, mode=mode)
    return [job_id for job_id, _ in requeue]


def purge_old_jobs(
    session: Session, *, storage: Storage, older_than: timedelta, now: datetime | None = None
) -> int:
    """Delete finished jobs older than `older_than` (their files, items and rows), and jobs
    abandoned while receiving their uploads. Returns how many jobs were deleted. Commits."""
    now = now or utcnow()
    cutoff = now - older_than
    old = session.exec(
        select(Job.id).where(
            col(Job.kind) == STUDIO_KIND,
            col(Job.status).in_(FINISHED),
            func.coalesce(col(Job.finished_at), col(Job.created_at)) < cutoff,
        )
    ).all()
    abandoned = session.exec(
        select(Job.id).where(
            col(Job.kind) == STUDIO_KIND,
            col(Job.status) == JobStatus.receiving,
            col(Job.heartbeat_at).is_(None) | (col(Job.heartbeat_at) < now - ABANDONED_AFTER),
        )
    ).all()
    session.commit()
    purged = 0
    for job_id in [*old, *abandoned]:
        if job_id is not None and _purge(session, job_id=job_id, storage=storage):
            purged += 1
    return purged


def _refund_abandoned(session: Session, *, key: str) -> None:
    # The request may have reserved credits and died before it recorded doing so.
    session.commit()
    with contextlib.suppress(NotFoundError, ConflictError):  # never reserved, or settled
        credits.refund(session, key=key)


def _purge(session: Session, *, job_id: int, storage: Storage) -> bool:
    job = session.get(Job, job_id)
    if job is None:
        return False
    if job.status == JobStatus.receiving and job.reservation_key:
        _refund_abandoned(session, key=job.reservation_key)
    try:
        for key in job_keys(session, job_id):
            storage.delete(key)
    except Exception:  # files first, rows after: the next run tries this job again
        log.warning("could not delete the files of job %s; will retry", job_id, exc_info=True)
        session.rollback()
        return False
    rows_changed(session, delete(JobItem).where(col(JobItem.job_id) == job_id))
    rows_changed(session, delete(Job).where(col(Job.id) == job_id))
    session.commit()
    forget(session, job_id)
    return True

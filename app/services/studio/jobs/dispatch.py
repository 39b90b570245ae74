"""Studio jobs on the queue: the `run_job` task, putting a job on the queue, handing one back.

Jobs own their task: `register(huey)` adds `run_job` (and the handback on shutdown) to a queue,
and everything that queues a job comes through `enqueue` here. Records only writes rows, so
the import graph points one way: worker → dispatch → runner / records, never back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from huey import Huey, signals
from huey.api import Task, TaskWrapper
from sqlmodel import Session

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import Job, User
from app.services.core.queue import get_huey, task_once
from app.services.studio.imageops.spec import OpsSpec
from app.services.studio.jobs.lease import current_worker_id, release
from app.services.studio.jobs.records import PRIORITY, Mode, admit_job, get_job
from app.services.studio.jobs.runner import run_job
from app.services.studio.jobs.views import JobView

log = get_logger("jobs")

RUN_TASK = "run_job"  # the huey task name, also what recovery looks for in the queue
# A job's transient failures (storage or database out of reach) are retried this many times,
# waiting 10 s, then 20 s, 40 s...; failures of single images are never retried.
JOB_RETRIES = 4
JOB_RETRY_DELAY = 10
JOB_RETRY_BACKOFF = 2


def create_job(
    session: Session,
    *,
    user: User,
    spec: OpsSpec,
    uploads: Iterable[tuple[str, BinaryIO]],
    mode: Mode,
) -> JobView:
    """Store the uploads (zip files expanded) as a job's items, reserve the credits and queue it.

    Files that can't be used become failed items with their reason; the rest still run.
    Raises PlanLimitError (too many images, or too many jobs at once), InsufficientCreditsError,
    or InvalidInputError when no usable image was given. Nothing is kept or charged on any of
    those. Commits `session` (the ledger writes in its own transactions).
    """
    job_id = admit_job(session, user=user, spec=spec, uploads=uploads, mode=mode)
    enqueue(job_id, mode=mode)
    return get_job(session, user=user, job_id=job_id)


def enqueue(job_id: int, *, mode: str) -> None:
    """Put the job on the queue the current settings name. If the queue can't be reached the
    job stays queued in the database and recovery (recovery.recover_jobs) enqueues it later."""
    try:
        queue = get_huey()
        queue.enqueue(register(queue).s(job_id, priority=PRIORITY.get(mode, 0)))
    except Exception:
        log.error("could not enqueue job %s; recovery will retry", job_id, exc_info=True)


def register(huey: Huey) -> TaskWrapper:
    """The `run_job` task of `huey`, registering it the first time this queue is seen (the web
    process enqueues on the queue its current settings name; tests switch DATA_DIR per test)."""
    return task_once(
        huey,
        _run_job,
        name=RUN_TASK,
        retries=JOB_RETRIES,
        retry_delay=JOB_RETRY_DELAY,
        retry_backoff=JOB_RETRY_BACKOFF,
        context=True,
        on_register=lambda queue: queue.signal(signals.SIGNAL_INTERRUPTED)(_on_interrupted),
    )


def _run_job(job_id: int, task: Task | None = None) -> str:
    # huey counts retries down: none left means this is the last attempt.
    last = task is None or not task.retries
    return run_job(job_id, last_attempt=last)


def _on_interrupted(_signal: str, task: Task, *_args: Any, **_kwargs: Any) -> None:
    """The worker is stopping now (SIGTERM): hand its jobs back at once instead of leaving
    them for recovery to notice."""
    if task.name != RUN_TASK or not task.args:
        return
    job_id = int(task.args[0])
    with session_scope() as session:
        handed_back = release(session, job_id=job_id, worker_id=current_worker_id())
        job = session.get(Job, job_id) if handed_back else None
    if job is not None:
        enqueue(job_id, mode=job.mode)

"""Background tasks run by the huey worker (`python -m app.cli worker`).

Tasks are registered on a queue by `tasks_for(huey)`, so the web process can enqueue on the
queue its current settings name (tests switch DATA_DIR per test) and the worker runs the same
task names from the same queue.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, crontab, signals
from huey.api import Task, TaskWrapper
from sqlmodel import select

from app.services.accounts.auth import purge_expired_sessions
from app.services.analyzer.catalogue.refresh import refresh_all
from app.services.analyzer.style_memory import refresh_embeddings
from app.services.billing import pricing
from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import Job, Role, User
from app.services.core.queue import get_huey
from app.services.core.storage import get_storage
from app.services.images.intake import purge_expired_assets, rebuild_missing_thumbnails
from app.services.library.prompt_ops import purge_trash
from app.services.studio import jobs
from app.services.studio.jobs.lease import current_worker_id, release
from app.settings import get_settings

log = get_logger("tasks")

# A job's transient failures (storage or database out of reach) are retried this many times,
# waiting 10 s, then 20 s, 40 s...; failures of single images are never retried.
JOB_RETRIES = 4
JOB_RETRY_DELAY = 10
JOB_RETRY_BACKOFF = 2


def grant_plan_credits() -> int:
    """This month's plan credits for every active account (idempotent per user and month)."""
    with session_scope() as session:
        ids = [u for u in session.exec(select(User.id).where(User.is_active)).all() if u]
    granted = 0
    for user_id in ids:
        # The ledger runs its own transactions: one short session per account.
        with session_scope() as session:
            user = session.get(User, user_id)
            if user is not None and pricing.grant_monthly_credits(session, user=user) is not None:
                granted += 1
    return granted


def run_maintenance() -> dict[str, int]:
    """Empty old trash, purge expired uploads, sessions and old studio jobs, recover jobs of
    dead workers, rebuild thumbnails, embed prompts, refresh stale model catalogues."""
    storage = get_storage()
    settings = get_settings()
    # The job acts as an admin (an unsaved User): only the role matters to purge_trash.
    system = User(email="maintenance@jsoncraft.local", role=Role.admin.value)
    with session_scope() as session:
        trashed = purge_trash(
            session, viewer=system, older_than=timedelta(days=settings.trash_retention_days)
        )
        purged = purge_expired_assets(session=session, storage=storage)
        sessions = purge_expired_sessions(session)
        rebuilt = rebuild_missing_thumbnails(session=session, storage=storage)
        embedded = refresh_embeddings(session, limit=200)
    with session_scope() as session:
        purged_jobs = jobs.purge_old_jobs(
            session, storage=storage, older_than=timedelta(days=settings.job_retention_days)
        )
    recovered = len(jobs.recover_jobs())
    granted = grant_plan_credits()
    # Failures are logged and retried next run: the rest of maintenance must not depend on
    # a provider being reachable.
    refreshed = refresh_all(settings, only_stale=True)
    result = {
        "plan_grants": granted,
        "purged_trash": trashed,
        "purged_assets": purged,
        "purged_sessions": sessions,
        "rebuilt_thumbnails": rebuilt,
        "embedded_prompts": embedded,
        "purged_jobs": purged_jobs,
        "recovered_jobs": recovered,
        "catalogue_models": sum(r.listed for r in refreshed),
        "catalogue_failures": sum(1 for r in refreshed if r.error),
    }
    log.info("maintenance done", extra=result)
    return result


def recover_stale_jobs() -> list[int]:
    """Queue again the jobs of dead workers and jobs missing from the queue (worker start)."""
    recovered = jobs.recover_jobs()
    if recovered:
        log.info("recovered jobs", extra={"jobs": recovered})
    return recovered


def _run_job(job_id: int, task: Task | None = None) -> str:
    # huey counts retries down: none left means this is the last attempt.
    last = task is None or not task.retries
    return jobs.run_job(job_id, last_attempt=last)


def _on_interrupted(_signal: str, task: Task, *_args: Any, **_kwargs: Any) -> None:
    """The worker is stopping now (SIGTERM): hand its jobs back at once instead of leaving
    them for recovery to notice."""
    if task.name != "run_job" or not task.args:
        return
    job_id = int(task.args[0])
    with session_scope() as session:
        handed_back = release(session, job_id=job_id, worker_id=current_worker_id())
        job = session.get(Job, job_id) if handed_back else None
    if job is not None:
        enqueue_job(job_id, priority=jobs.PRIORITY.get(job.mode, 0))


@dataclass(frozen=True)
class QueueTasks:
    run_job: TaskWrapper
    maintenance: TaskWrapper
    recover: TaskWrapper


_lock = threading.Lock()
_ATTRIBUTE = "_jsoncraft_tasks"  # kept on the queue object itself: it lives as long as they do


def tasks_for(huey: Huey) -> QueueTasks:
    """The tasks registered on `huey`, registering them the first time this queue is seen."""
    with _lock:
        found: QueueTasks | None = getattr(huey, _ATTRIBUTE, None)
        if found is None:
            found = QueueTasks(
                run_job=huey.task(
                    retries=JOB_RETRIES,
                    retry_delay=JOB_RETRY_DELAY,
                    retry_backoff=JOB_RETRY_BACKOFF,
                    context=True,
                    name="run_job",
                )(_run_job),
                maintenance=huey.periodic_task(
                    crontab(minute="*/15"), retries=2, retry_delay=30, name="maintenance_task"
                )(run_maintenance),
                recover=huey.periodic_task(crontab(minute="*"), name="recover_jobs")(
                    recover_stale_jobs
                ),
            )
            huey.signal(signals.SIGNAL_INTERRUPTED)(_on_interrupted)
            setattr(huey, _ATTRIBUTE, found)
        return found


def enqueue_job(job_id: int, *, priority: int) -> None:
    """Queue a studio job on the queue the current settings name."""
    queue = get_huey()
    queue.enqueue(tasks_for(queue).run_job.s(job_id, priority=priority))


huey = get_huey()
maintenance_task = tasks_for(huey).maintenance

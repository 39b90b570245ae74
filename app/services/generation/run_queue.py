"""Generation runs on the job queue: the `run_generation` task, queueing a run, and recovery.

Mirrors studio jobs (studio/jobs/dispatch.py and recovery.py): `register(huey)` adds the task
to a queue, `enqueue` is the one way a run reaches it, and `recover_generations` (run by the
worker at start and every minute) queues again the runs of dead workers and runs missing from
the queue. A run that can't be queued stays queued in the database until recovery finds it.
"""

from __future__ import annotations

from datetime import datetime

from huey import Huey
from huey.api import TaskWrapper
from sqlalchemy import update
from sqlmodel import col, select

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import Generation, utcnow
from app.services.core.queue import get_huey, task_once, waiting_args
from app.services.generation.run_lease import release
from app.services.generation.run_records import RunStatus
from app.services.generation.run_worker import run_generation
from app.services.studio.jobs.lease import holder_is_dead, rows_changed, stale_before

log = get_logger("generation")

RUN_TASK = "run_generation"  # the huey task name, also what recovery looks for in the queue
RETRIES = 4  # a run handed back by a transient failure is tried again after 10 s, 20 s, ...
RETRY_DELAY = 10
RETRY_BACKOFF = 2
PRIORITY = 20  # a person waits on the page: ahead of studio batch jobs

_HELD = (RunStatus.queued, RunStatus.running)


def enqueue(generation_id: int) -> None:
    """Put the run on the queue the current settings name; if that fails, recovery does later."""
    try:
        queue = get_huey()
        queue.enqueue(register(queue).s(generation_id, priority=PRIORITY))
    except Exception:
        log.error(
            "could not enqueue generation %s; recovery will retry", generation_id, exc_info=True
        )


def register(huey: Huey) -> TaskWrapper:
    """The `run_generation` task of `huey`, registered the first time this queue is seen."""
    return task_once(
        huey,
        run_generation,
        name=RUN_TASK,
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
        retry_backoff=RETRY_BACKOFF,
    )


def recover_generations(*, now: datetime | None = None) -> list[int]:
    """Queue again every run that should be going and is not. Returns their ids.

    - A held run whose worker died (no heartbeat for JOB_STALE_SECONDS, or its process is gone
      from this host) is handed back and queued; it resumes at its first image not done.
    - A waiting run missing from the queue is queued again.
    """
    limit = stale_before(now)
    requeue: list[int] = []
    with session_scope() as session:
        held = session.exec(
            select(Generation.id, Generation.worker_id, Generation.heartbeat_at).where(
                col(Generation.worker_id).is_not(None), col(Generation.status).in_(_HELD)
            )
        ).all()
        for generation_id, worker_id, beat in held:
            if generation_id is None or worker_id is None:
                continue
            dead = beat is None or beat < limit or holder_is_dead(worker_id)
            if dead and release(session, generation_id=generation_id, worker_id=worker_id):
                log.warning(
                    "generation %s: worker %s stopped; queued again", generation_id, worker_id
                )
                requeue.append(generation_id)
        waiting = session.exec(
            select(Generation.id).where(
                col(Generation.worker_id).is_(None),
                col(Generation.status) == RunStatus.queued,
                col(Generation.heartbeat_at).is_(None) | (col(Generation.heartbeat_at) < limit),
            )
        ).all()
        if waiting:
            in_queue = waiting_args(get_huey(), RUN_TASK)
            for generation_id in waiting:
                if generation_id is None or generation_id in in_queue or generation_id in requeue:
                    continue
                if rows_changed(
                    session,
                    update(Generation)
                    .where(col(Generation.id) == generation_id, col(Generation.worker_id).is_(None))
                    .values(heartbeat_at=utcnow()),
                ):
                    log.warning(
                        "generation %s was missing from the queue; queued again", generation_id
                    )
                    requeue.append(generation_id)
    for generation_id in requeue:
        enqueue(generation_id)
    return requeue

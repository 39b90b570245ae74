"""LoRA trainings on the job queue: the `lora_step` task, queueing, and reconciliation.

A step is short: a queued training is submitted to Fal (held by a lease meanwhile, so two
workers never submit it twice), a submitted one is polled once. While it is not finished the
step schedules itself again after LORA_POLL_INTERVAL_SECONDS, so no worker waits on a training
for an hour. Fal's webhook usually finishes it first; `reconcile_trainings` (run every minute
by the worker) polls every training not finished, queues the ones missing from the queue, and
fails and refunds those past the time limit, so a lost callback or a lost task changes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from huey import Huey
from huey.api import TaskWrapper
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.errors import ProviderError
from app.services.core.logs import get_logger
from app.services.core.models import LoraTraining, utcnow
from app.services.core.queue import get_huey, task_once, waiting_args
from app.services.generation import lora_fal
from app.services.generation.lora_progress import past_time_limit, poll_once, time_out
from app.services.generation.lora_records import (
    ACTIVE,
    FINISHED,
    TrainingStatus,
    finish,
    load,
    settle,
)
from app.services.studio.jobs.lease import (
    current_worker_id,
    holder_is_dead,
    rows_changed,
    stale_before,
)
from app.settings import get_settings

log = get_logger("lora")

STEP_TASK = "lora_step"
PRIORITY = 10


def enqueue(training_id: int, *, delay: float | None = None) -> None:
    """Queue a step now (or after `delay` seconds); if that fails, reconciliation does later."""
    try:
        queue = get_huey()
        task = register(queue)
        if delay:
            task.schedule(args=(training_id,), delay=delay, priority=PRIORITY)
        else:
            queue.enqueue(task.s(training_id, priority=PRIORITY))
    except Exception:
        log.error("could not enqueue lora training %s; reconciliation will", training_id,
                  exc_info=True)  # fmt: skip


def register(huey: Huey) -> TaskWrapper:
    return task_once(huey, lora_step, name=STEP_TASK)


def lora_step(training_id: int) -> str:
    """Submit a queued training, or poll a submitted one; come back later if not finished."""
    settings = get_settings()
    with session_scope() as session:
        status = load(session, training_id).status
        if status == TrainingStatus.queued:
            status = submit_training(session, training_id)
        elif status in ACTIVE:
            status = poll_once(session, training_id, settings=settings)
    if status in ACTIVE and status != TrainingStatus.queued:
        enqueue(training_id, delay=max(settings.lora_poll_interval_seconds, 0.001))
    return status


def submit_training(session: Session, training_id: int, *, now: datetime | None = None) -> str:
    """Hand a queued training to Fal. A Fal error fails it with a clear message and refunds."""
    settings = get_settings()
    worker_id = current_worker_id()
    if not _claim(session, training_id, worker_id):
        return load(session, training_id).status
    training = load(session, training_id)
    if training.cancel_requested:
        finish(session, training_id, TrainingStatus.cancelled)
        return TrainingStatus.cancelled.value
    if past_time_limit(training, settings=settings, now=now):
        time_out(session, training, settings=settings)
        return load(session, training_id).status
    assert training.zip_key is not None
    try:
        data_url = lora_fal.zip_url(settings, training.zip_key)
        queued = asyncio.run(lora_fal.submit(settings, training, data_url=data_url))
    except ProviderError as e:
        finish(session, training_id, TrainingStatus.failed,
               error=f"{e.message} The credits were refunded.")  # fmt: skip
        return TrainingStatus.failed.value
    except BaseException:
        _release(session, training_id, worker_id)  # reconciliation queues it again
        raise
    rows_changed(
        session,
        update(LoraTraining)
        .where(col(LoraTraining.id) == training_id, col(LoraTraining.worker_id) == worker_id)
        .values(
            status=TrainingStatus.uploading.value,
            fal_request_id=queued.request_id[:200],
            status_url=queued.status_url[:1000],
            response_url=queued.response_url[:1000],
            cancel_url=queued.cancel_url[:1000],
            submitted_at=utcnow(),
            worker_id=None,
        ),
    )
    session.commit()
    log.info("lora training %s submitted to Fal as %s", training_id, queued.request_id)
    return load(session, training_id).status


def reconcile_trainings(*, now: datetime | None = None) -> dict[str, int]:
    """Every training not finished: past the time limit it fails and is refunded; submitted,
    it is polled; queued, it is queued again if no live worker holds it and it is not waiting
    in the queue. Idempotent; run every minute by the worker."""
    settings = get_settings()
    counts = {"timed_out": 0, "polled": 0, "requeued": 0, "settled": 0}
    with session_scope() as session:
        rows = session.exec(
            select(LoraTraining.id)
            .where(col(LoraTraining.status).in_([s.value for s in ACTIVE]))
            .order_by(col(LoraTraining.polled_at))
        ).all()
    waiting = waiting_args(get_huey(), STEP_TASK) if rows else set()
    for training_id in rows:
        if training_id is None:
            continue
        with session_scope() as session:
            training = load(session, training_id)
            if past_time_limit(training, settings=settings, now=now):
                time_out(session, training, settings=settings)
                counts["timed_out"] += 1
            elif training.status != TrainingStatus.queued:
                poll_once(session, training_id, settings=settings, now=now)
                counts["polled"] += 1
            elif training_id not in waiting and _free(training, now=now):
                rows_changed(
                    session,
                    update(LoraTraining)
                    .where(col(LoraTraining.id) == training_id)
                    .values(worker_id=None),
                )
                session.commit()
                enqueue(training_id)
                counts["requeued"] += 1
    counts["settled"] = _settle_recent(now=now)
    return counts


def _settle_recent(*, now: datetime | None) -> int:
    """Settle again what finished in the last day: a worker killed between finishing a
    training and settling its credits left it unsettled (settling twice changes nothing)."""
    since = (now or utcnow()) - timedelta(days=1)
    with session_scope() as session:
        rows = session.exec(
            select(LoraTraining).where(
                col(LoraTraining.status).in_([s.value for s in FINISHED]),
                col(LoraTraining.finished_at) >= since,
                col(LoraTraining.reservation_key).is_not(None),
            )
        ).all()
        settled = 0
        for training in rows:
            assert training.reservation_key is not None
            held = credits.get_reservation(session, key=training.reservation_key)
            if held.status == credits.ReservationStatus.held:
                settle(session, training)
                settled += 1
        return settled


def _free(training: LoraTraining, *, now: datetime | None) -> bool:
    if training.worker_id is None:
        return True
    beat = training.heartbeat_at
    return beat is None or beat < stale_before(now) or holder_is_dead(training.worker_id)


def _claim(session: Session, training_id: int, worker_id: str) -> bool:
    changed = rows_changed(
        session,
        update(LoraTraining)
        .where(
            col(LoraTraining.id) == training_id,
            col(LoraTraining.worker_id).is_(None),
            col(LoraTraining.status) == TrainingStatus.queued.value,
        )
        .values(
            worker_id=worker_id, heartbeat_at=utcnow(), attempts=col(LoraTraining.attempts) + 1
        ),  # fmt: skip
    )
    session.commit()
    return changed == 1


def _release(session: Session, training_id: int, worker_id: str) -> None:
    session.rollback()
    rows_changed(
        session,
        update(LoraTraining)
        .where(col(LoraTraining.id) == training_id, col(LoraTraining.worker_id) == worker_id)
        .values(worker_id=None),
    )
    session.commit()

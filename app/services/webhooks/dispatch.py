"""Deliveries onto the job queue: the `send_webhook` task, the kick after a commit, the sweep.

- `emit` (outbox.py) and replays call `kick_after_commit`: their deliveries are queued the
  moment the transaction that wrote them commits (nothing is queued for a rollback).
- `sweep` queues every pending delivery that is due and not leased and not already waiting in
  the queue: retries come due this way, and so does anything a kick missed (the queue was
  down, the web process died between commit and kick, a worker was killed mid-send).
  Every worker runs it every WEBHOOK_SWEEP_SECONDS from a thread (`start_sweeper`), since
  huey's periodic tasks run at most once a minute; leases make concurrent sweeps harmless.
"""

from __future__ import annotations

import threading
from datetime import datetime

from huey import Huey
from huey.api import TaskWrapper
from sqlalchemy import event, or_
from sqlmodel import Session, col, select

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import WebhookDelivery, utcnow
from app.services.core.queue import get_huey, task_once, waiting_args
from app.services.webhooks.sender import send_delivery
from app.settings import get_settings

log = get_logger("webhooks")

SEND_TASK = "send_webhook"
PRIORITY = 10  # ahead of studio batch jobs, behind a generation someone watches
SWEEP_BATCH = 1000

_KICK = "jsoncraft_webhook_kick"


def register(huey: Huey) -> TaskWrapper:
    """The `send_webhook` task of `huey`. No huey retries: the delivery's own schedule
    (schedule.py) decides when it is tried again, through the sweep."""
    return task_once(huey, send_delivery, name=SEND_TASK)


def enqueue(delivery_ids: list[str], *, trigger: str = "auto") -> None:
    """Queue a send of each delivery; if the queue is down, the sweep finds them later."""
    if not delivery_ids:
        return
    try:
        queue = get_huey()
        task = register(queue)
        for delivery_id in delivery_ids:
            queue.enqueue(task.s(delivery_id, trigger, priority=PRIORITY))
    except Exception:
        log.error("could not queue webhook deliveries; the sweep will", exc_info=True)


def kick_after_commit(session: Session, delivery_ids: list[str], *, trigger: str = "auto") -> None:
    """Queue these deliveries once `session` commits (dropped if it rolls back)."""
    kicks: list[tuple[str, str]] | None = session.info.get(_KICK)
    if kicks is None:
        kicks = session.info[_KICK] = []
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
    kicks.extend((delivery_id, trigger) for delivery_id in delivery_ids)


def _after_commit(session: Session) -> None:
    kicks: list[tuple[str, str]] = session.info.get(_KICK, [])
    ready, kicks[:] = list(kicks), []
    for trigger in {t for _, t in ready}:
        enqueue([d for d, t in ready if t == trigger], trigger=trigger)


def _after_rollback(session: Session, _previous: object) -> None:
    session.info.get(_KICK, []).clear()


def due_ids(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[str]:
    """Pending deliveries whose time has come and that no sender holds, oldest first."""
    now = now or utcnow()
    with session_scope() as session:
        rows = session.exec(
            select(WebhookDelivery.id)
            .where(
                col(WebhookDelivery.status) == "pending",
                col(WebhookDelivery.next_attempt_at) <= now,
                or_(
                    col(WebhookDelivery.leased_until).is_(None),
                    col(WebhookDelivery.leased_until) < now,
                ),
            )
            .order_by(col(WebhookDelivery.next_attempt_at))
            .limit(limit)
        ).all()
    return list(rows)


def sweep(*, now: datetime | None = None) -> list[str]:
    """Queue every due delivery not already waiting in the queue. Returns the ids queued."""
    due = due_ids(now=now)
    if not due:
        return []
    waiting = waiting_args(get_huey(), SEND_TASK)
    missing = [delivery_id for delivery_id in due if delivery_id not in waiting]
    enqueue(missing)
    return missing


def start_sweeper(stop: threading.Event) -> threading.Thread:
    """Sweep every WEBHOOK_SWEEP_SECONDS until `stop` is set (a daemon thread of the worker)."""

    def loop() -> None:
        interval = get_settings().webhook_sweep_seconds
        while not stop.is_set():
            try:
                sweep()
            except Exception:
                log.error("webhook sweep failed; trying again", exc_info=True)
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="webhook-sweeper", daemon=True)
    thread.start()
    return thread

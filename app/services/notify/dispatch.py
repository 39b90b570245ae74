"""Emails onto the job queue: the `send_email` task, the kick after a commit, the sweep.

The same shape as webhook deliveries (webhooks/dispatch.py):
- `notify` (outbox.py) calls `kick_after_commit`: the email is queued the moment the
  transaction that wrote it commits (nothing is queued for a rollback).
- `sweep` queues every queued email that is due, not leased and not already waiting in the
  queue: retries come due this way, and so does anything a kick missed (the queue was down,
  the web process died between commit and kick, a worker was killed mid-send). Every worker
  runs it every SWEEP_SECONDS from a thread (`start_sweeper`); leases make concurrent sweeps
  harmless.
"""

from __future__ import annotations

import threading
from datetime import datetime

from huey import Huey
from huey.api import TaskWrapper
from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.services.core.after_commit import call_after_commit
from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import EmailMessage, utcnow
from app.services.core.queue import get_huey, task_once, waiting_args
from app.services.notify.sender import send_email

log = get_logger("email")

SEND_TASK = "send_email"
PRIORITY = 10  # like webhooks: ahead of studio batch jobs, behind a generation someone watches
SWEEP_SECONDS = 10.0  # retries wait a minute at least, so a few seconds late is fine
SWEEP_BATCH = 1000


def register(huey: Huey) -> TaskWrapper:
    """The `send_email` task of `huey`. No huey retries: the email's own schedule
    (schedule.py) decides when it is tried again, through the sweep."""
    return task_once(huey, send_email, name=SEND_TASK)


def enqueue(email_ids: list[int]) -> None:
    """Queue a send of each email; if the queue is down, the sweep finds them later."""
    if not email_ids:
        return
    try:
        queue = get_huey()
        task = register(queue)
        for email_id in email_ids:
            queue.enqueue(task.s(email_id, priority=PRIORITY))
    except Exception:
        log.error("could not queue emails; the sweep will", exc_info=True)


def kick_after_commit(session: Session, email_ids: list[int]) -> None:
    """Queue these emails once `session` commits (dropped if it rolls back)."""
    call_after_commit(session, SEND_TASK, email_ids, enqueue)


def due_ids(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Queued emails whose time has come and that no sender holds, oldest first."""
    now = now or utcnow()
    with session_scope() as session:
        rows = session.exec(
            select(EmailMessage.id)
            .where(
                col(EmailMessage.status) == "queued",
                col(EmailMessage.next_attempt_at) <= now,
                or_(
                    col(EmailMessage.leased_until).is_(None),
                    col(EmailMessage.leased_until) < now,
                ),
            )
            .order_by(col(EmailMessage.next_attempt_at))
            .limit(limit)
        ).all()
    return [row for row in rows if row is not None]


def sweep(*, now: datetime | None = None) -> list[int]:
    """Queue every due email not already waiting in the queue. Returns the ids queued."""
    due = due_ids(now=now)
    if not due:
        return []
    waiting = waiting_args(get_huey(), SEND_TASK)
    missing = [email_id for email_id in due if email_id not in waiting]
    enqueue(missing)
    return missing


def start_sweeper(stop: threading.Event) -> threading.Thread:
    """Sweep every SWEEP_SECONDS until `stop` is set (a daemon thread of the worker)."""

    def loop() -> None:
        while not stop.is_set():
            try:
                sweep()
            except Exception:
                log.error("email sweep failed; trying again", exc_info=True)
            stop.wait(SWEEP_SECONDS)

    thread = threading.Thread(target=loop, name="email-sweeper", daemon=True)
    thread.start()
    return thread

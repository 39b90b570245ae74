"""Who holds a generation run: the same lease rule as studio jobs (studio/jobs/lease.py).

A run is held while `generations.worker_id` is set; the holder refreshes `heartbeat_at` from a
thread, and every write it makes is conditional on still holding the run, so a worker presumed
dead can't overwrite the progress of the one that took over.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import case, update
from sqlmodel import Session, col

from app.services.core.db import session_scope
from app.services.core.errors import LeaseLostError
from app.services.core.heartbeat import keep_alive
from app.services.core.models import Generation, GenerationImage, utcnow
from app.services.generation.run_records import ImageStatus, RunStatus
from app.services.studio.jobs.lease import heartbeat_interval, rows_changed


def claim(session: Session, *, generation_id: int, worker_id: str) -> bool:
    """Take a waiting run. False if someone holds it or it already finished."""
    now = utcnow()
    changed = rows_changed(
        session,
        update(Generation)
        .where(
            col(Generation.id) == generation_id,
            col(Generation.worker_id).is_(None),
            col(Generation.status).in_([RunStatus.queued, RunStatus.running]),
        )
        .values(
            worker_id=worker_id,
            status=RunStatus.running.value,
            heartbeat_at=now,
            started_at=case(
                (col(Generation.started_at).is_(None), now), else_=col(Generation.started_at)
            ),
            attempts=col(Generation.attempts) + 1,
        ),
    )
    session.commit()
    return changed == 1


def release(session: Session, *, generation_id: int, worker_id: str) -> bool:
    """Hand a held run back (queued again, its running image too). The caller enqueues it.
    False if `worker_id` did not hold it."""
    changed = rows_changed(
        session,
        update(Generation)
        .where(col(Generation.id) == generation_id, col(Generation.worker_id) == worker_id)
        .values(worker_id=None, status=RunStatus.queued.value, heartbeat_at=utcnow()),
    )
    if changed == 1:
        rows_changed(
            session,
            update(GenerationImage)
            .where(
                col(GenerationImage.generation_id) == generation_id,
                col(GenerationImage.status) == ImageStatus.running,
            )
            .values(status=ImageStatus.queued.value),
        )
    session.commit()
    return changed == 1


def touch(session: Session, *, generation_id: int, worker_id: str, **values: Any) -> None:
    """Refresh the heartbeat (and set `values`) in the caller's transaction if `worker_id`
    still holds the run; LeaseLostError otherwise."""
    changed = rows_changed(
        session,
        update(Generation)
        .where(col(Generation.id) == generation_id, col(Generation.worker_id) == worker_id)
        .values(heartbeat_at=utcnow(), **values),
    )
    if changed != 1:
        raise LeaseLostError(f"generation {generation_id} is no longer held by {worker_id}")


@contextmanager
def heartbeat(generation_id: int, worker_id: str) -> Iterator[threading.Event]:
    """Keep the lease fresh while one slow provider call blocks the run. The event is set
    once the lease is lost."""

    def renew() -> None:
        with session_scope() as session:
            touch(session, generation_id=generation_id, worker_id=worker_id)

    with keep_alive(
        renew, interval=heartbeat_interval(), name=f"generation-{generation_id}"
    ) as lost:
        yield lost

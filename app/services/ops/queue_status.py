"""How far behind the job queue is: tasks waiting, scheduled (retries, delays) and the age of
the one that has waited longest. Works on both queue backends (SQLite file, Redis)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from huey import Huey

from app.services.core.models import User
from app.services.core.queue import get_huey, oldest_waiting
from app.services.ops.access import require_admin
from app.services.ops.clock import aware


@dataclass(frozen=True)
class QueueStatus:
    backend: str
    waiting: int
    scheduled: int
    oldest_at: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float | None:
        return None if self.oldest_at is None else max(0.0, (now - self.oldest_at).total_seconds())


def read_queue(huey: Huey) -> QueueStatus:
    """Raises when the queue's storage cannot be reached (the page shows it as down)."""
    oldest = oldest_waiting(huey)
    return QueueStatus(
        backend=type(huey).__name__,
        waiting=int(huey.pending_count()),
        scheduled=int(huey.scheduled_count()),
        oldest_at=None if oldest is None else aware(oldest),
    )


def queue_status(*, actor: User | None) -> QueueStatus:
    require_admin(actor)
    return read_queue(get_huey())

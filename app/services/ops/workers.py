"""Queue workers and their heartbeats: the writer each `python -m app.cli worker` runs, and the
list /admin/system shows.

The writer upserts one WorkerHeartbeat row (id host:pid:start) from a thread every
WORKER_HEARTBEAT_SECONDS with the tasks done and the ones running, and deletes it on a clean
exit. A worker killed hard leaves its row behind: the page shows it stale, and maintenance
prunes rows unseen for a day.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from huey import Huey, signals
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import User, WorkerHeartbeat, utcnow
from app.services.ops.access import require_admin
from app.services.ops.clock import aware
from app.settings import get_settings

log = get_logger("worker")

PRUNE_AFTER = timedelta(days=1)
CURRENT_TASK_CHARS = 120  # the column's width


class HeartbeatWriter:
    """Counts the tasks this process runs (fed by the queue's signals) and writes them down."""

    def __init__(self, *, hostname: str | None = None, pid: int | None = None) -> None:
        self.hostname = (hostname or socket.gethostname())[:255]
        self.pid = pid if pid is not None else os.getpid()
        self.started_at = utcnow()
        self.id = f"{self.hostname}:{self.pid}:{int(self.started_at.timestamp())}"[:120]
        self._lock = threading.Lock()
        self._running: dict[str, str] = {}  # task id -> task name
        self._done = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def task_started(self, task_id: str, name: str) -> None:
        with self._lock:
            self._running[task_id] = name

    def task_finished(self, task_id: str) -> None:
        """Idempotent per task id: a failure that is retried signals twice, counts once."""
        with self._lock:
            if self._running.pop(task_id, None) is not None:
                self._done += 1

    def _snapshot(self) -> tuple[int, str | None]:
        with self._lock:
            running = ", ".join(sorted(set(self._running.values())))
            return self._done, (running[:CURRENT_TASK_CHARS] or None)

    def beat(self) -> None:
        done, current = self._snapshot()
        with session_scope() as session:
            row = session.get(WorkerHeartbeat, self.id)
            if row is None:
                row = WorkerHeartbeat(
                    id=self.id, hostname=self.hostname, pid=self.pid, started_at=self.started_at
                )
            row.last_seen_at = utcnow()
            row.tasks_done = done
            row.current_task = current
            session.add(row)

    def start(self) -> None:
        """First beat now (the worker shows up at once), then one every interval."""
        interval = get_settings().worker_heartbeat_seconds
        self._beat_logged()

        def loop() -> None:
            while not self._stop.wait(interval):
                self._beat_logged()

        self._thread = threading.Thread(target=loop, name="worker-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A clean exit: the row goes, so the page never lists a worker that left politely."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=get_settings().worker_heartbeat_seconds + 5)
        try:
            with session_scope() as session:
                session.exec(delete(WorkerHeartbeat).where(col(WorkerHeartbeat.id) == self.id))
        except Exception:  # the database is gone too: the row goes stale, maintenance prunes it
            log.warning("could not remove the worker heartbeat", exc_info=True)

    def _beat_logged(self) -> None:
        try:
            self.beat()
        except Exception:  # a busy or restarting database: the next beat tries again
            log.warning("worker heartbeat failed", exc_info=True)


# Every way a task that began executing ends (huey sends one or two of these per run).
_FINISHED = (
    signals.SIGNAL_COMPLETE,
    signals.SIGNAL_ERROR,
    signals.SIGNAL_RETRYING,
    signals.SIGNAL_CANCELED,
    signals.SIGNAL_TIMEOUT,
    signals.SIGNAL_RATE_LIMITED,
    signals.SIGNAL_LOCKED,
    signals.SIGNAL_INTERRUPTED,
)


def watch_tasks(huey: Huey, writer: HeartbeatWriter) -> None:
    """Feed `writer` from the queue's signals: a task starts, then finishes one way or another."""

    def started(_signal: str, task: Any, *_args: Any) -> None:
        writer.task_started(str(task.id), str(task.name))

    def finished(_signal: str, task: Any, *_args: Any) -> None:
        writer.task_finished(str(task.id))

    huey.signal(signals.SIGNAL_EXECUTING)(started)
    huey.signal(*_FINISHED)(finished)


@dataclass(frozen=True)
class WorkerView:
    id: str
    hostname: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    tasks_done: int
    current_task: str | None
    stale: bool


def list_workers(session: Session, *, actor: User | None, now: datetime) -> list[WorkerView]:
    """Every worker row, freshest first; a row unseen for worker_stale_seconds is stale."""
    require_admin(actor)
    stale_after = timedelta(seconds=get_settings().worker_stale_seconds)
    rows = session.exec(
        select(WorkerHeartbeat).order_by(col(WorkerHeartbeat.last_seen_at).desc())
    ).all()
    return [
        WorkerView(
            id=r.id,
            hostname=r.hostname,
            pid=r.pid,
            started_at=aware(r.started_at),
            last_seen_at=aware(r.last_seen_at),
            tasks_done=r.tasks_done,
            current_task=r.current_task,
            stale=now - aware(r.last_seen_at) > stale_after,
        )
        for r in rows
    ]


def prune_workers(session: Session, *, now: datetime, older_than: timedelta = PRUNE_AFTER) -> int:
    """Delete rows of workers unseen for `older_than` (killed hard, never coming back)."""
    result = session.exec(
        delete(WorkerHeartbeat).where(col(WorkerHeartbeat.last_seen_at) < now - older_than)
    )
    return int(result.rowcount or 0)

"""The job queue: huey on a SQLite file by default, on Redis when REDIS_URL is set.

Both backends honour task priorities (studio jobs in "now" mode jump ahead of "batch" ones):
SQLite orders by its priority column, and on Redis the priority flavour keeps the queue in a
sorted set. A Redis queue written by the plain `RedisHuey` (a list) must be drained before
switching, since the two layouts differ under the same key.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.signals import SIGNAL_ENQUEUED
from huey.storage import RedisPriorityQueue, SqliteStorage

from app.services.core.tracing import carry_trace_context, traced_task
from app.settings import Settings, get_settings

QUEUE_NAME = "jsoncraft"
_TASKS = "_jsoncraft_task_wrappers"  # on the queue object: registrations live as long as it
_registration_lock = threading.RLock()


def build_huey(settings: Settings) -> Huey:
    return _huey_for(settings.redis_url or "", str(settings.queue_path.resolve()))


def get_huey() -> Huey:
    """One queue per configuration: tests and the CLI switch DATA_DIR between calls."""
    return build_huey(get_settings())


@lru_cache(maxsize=8)
def _huey_for(redis_url: str, queue_path: str) -> Huey:
    # Task results are not stored: jobs report through the database, and unread results would
    # pile up in the queue's storage forever.
    if redis_url:
        return PriorityRedisHuey(QUEUE_NAME, url=redis_url, results=False)
    Path(queue_path).parent.mkdir(parents=True, exist_ok=True)
    huey = SqliteHuey(QUEUE_NAME, filename=queue_path, results=False)
    _stamp_enqueue_times(huey.storage)
    return huey


def _stamp_enqueue_times(storage: SqliteStorage) -> None:
    """huey's SQLite task table keeps no time, so a trigger stamps each row as it is written:
    /admin/system shows how long the oldest task has waited. Idempotent, and safe when two
    processes open the same queue file at once."""
    columns = {row[1] for row in storage.sql("pragma table_info(task)", results=True)}
    if "enqueued_at" not in columns:
        # Two processes may open a new queue file at once: the second finds the column added.
        with contextlib.suppress(sqlite3.OperationalError):
            storage.sql("alter table task add column enqueued_at real", commit=True)
    storage.sql(
        "create trigger if not exists task_enqueued_at after insert on task begin "
        "update task set enqueued_at = (julianday('now') - 2440587.5) * 86400.0 "
        "where id = new.id; end",
        commit=True,
    )


# The Redis priority queue prefixes every member with its enqueue time (8 bytes, big-endian
# microseconds); the smallest prefix is the oldest task. Computed in Redis, so only 8 bytes
# travel however long the queue is.
_OLDEST_PREFIX = """
local oldest = false
for _, member in ipairs(redis.call('zrange', KEYS[1], 0, -1)) do
  local prefix = string.sub(member, 1, 8)
  if not oldest or prefix < oldest then oldest = prefix end
end
return oldest
"""


def oldest_waiting(huey: Huey) -> datetime | None:
    """When the task that has waited longest in the queue was put there (None: the queue is
    empty, or its tasks predate the stamp). Raises when the queue's storage cannot be reached."""
    storage = huey.storage
    if isinstance(storage, SqliteStorage):
        rows = storage.sql(
            "select min(enqueued_at) from task where queue = ?", (storage.name,), results=True
        )
        seconds = rows[0][0] if rows else None
        return None if seconds is None else datetime.fromtimestamp(float(seconds), UTC)
    if isinstance(storage, RedisPriorityQueue):
        prefix = storage.conn.eval(_OLDEST_PREFIX, 1, storage.queue_key)
        if not prefix:
            return None
        micros = int.from_bytes(prefix, "big")
        return datetime.fromtimestamp(micros / 1e6, UTC)
    return None


def check_queue(huey: Huey) -> int:
    """Pending task count; raises when the queue's storage cannot be reached."""
    return int(huey.pending_count())


def waiting_args(huey: Huey, task_name: str) -> set[object]:
    """The first argument of every `task_name` task waiting in the queue or its schedule
    (retries wait there), e.g. the job ids that some worker will still run."""
    found: set[object] = set()
    for task in [*huey.pending(), *huey.scheduled()]:
        if task.name == task_name and task.args:
            found.add(task.args[0])
    return found


def task_once(
    huey: Huey,
    fn: Callable[..., Any],
    *,
    name: str,
    on_register: Callable[[Huey], None] | None = None,
    **options: Any,
) -> TaskWrapper:
    """`fn` as the task `name` of `huey`, registered the first time this queue asks for it.

    The web process enqueues on whichever queue its current settings name (tests switch
    DATA_DIR per test), so each queue object keeps its own registrations. `on_register` runs
    once beside the registration (e.g. to hook a huey signal).

    Every task runs in a span linked to the span that enqueued it (core/tracing.py)."""
    with _registration_lock:
        tasks: dict[str, TaskWrapper] = huey.__dict__.setdefault(_TASKS, {})
        found = tasks.get(name)
        if found is None:
            if not tasks:  # the first task on this queue: carry trace context from now on
                huey.signal(SIGNAL_ENQUEUED)(carry_trace_context(tasks.keys()))
            found = huey.task(name=name, **options)(traced_task(fn, name=name))
            if on_register is not None:
                on_register(huey)
            tasks[name] = found
        return found

"""Work that must wait until a transaction commits: queue a task for rows it wrote.

A row written in a transaction is only worth queuing once that transaction commits; queued
earlier, a worker could look for it before it exists, and a rollback would leave a task for a
row that never was. `call_after_commit` collects items on the session under a key and hands
them to the callback after the commit (dropped on a rollback). The webhook outbox follows the
same pattern (webhooks/dispatch.py); email (notify/dispatch.py) uses this helper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

_CALLBACKS = "jsoncraft_after_commit"


def call_after_commit(
    session: Session, key: str, items: list[Any], callback: Callable[[list[Any]], None]
) -> None:
    """Run `callback(items)` once `session` commits, with every item added under `key` since
    the last commit; a rollback drops them."""
    pending: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] | None = session.info.get(
        _CALLBACKS
    )
    if pending is None:
        pending = session.info[_CALLBACKS] = {}
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
    _, collected = pending.setdefault(key, (callback, []))
    collected.extend(items)


def _after_commit(session: Session) -> None:
    pending: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = session.info.get(
        _CALLBACKS, {}
    )
    ready = [(callback, list(items)) for callback, items in pending.values() if items]
    pending.clear()
    for callback, items in ready:
        callback(items)


def _after_rollback(session: Session, _previous: object) -> None:
    session.info.get(_CALLBACKS, {}).clear()

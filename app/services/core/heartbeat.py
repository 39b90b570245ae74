"""Keep a worker's lease fresh from a thread while a slow call blocks the work.

Studio jobs and generation runs both hold a lease on their row; `keep_alive` is the one loop
that renews it and says when it was lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from app.services.core.errors import LeaseLostError
from app.services.core.logs import get_logger

log = get_logger("worker")


@contextmanager
def keep_alive(
    touch: Callable[[], None], *, interval: float, name: str
) -> Iterator[threading.Event]:
    """Call `touch` every `interval` seconds until the body ends. The event is set once
    `touch` raises LeaseLostError; other errors (a busy database) are logged and retried."""
    lost = threading.Event()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                touch()
            except LeaseLostError:
                lost.set()
                return
            except Exception:  # a busy database: the next beat tries again
                log.warning("heartbeat for %s failed", name, exc_info=True)

    thread = threading.Thread(target=beat, name=f"{name}-heartbeat", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join(timeout=interval + 5)

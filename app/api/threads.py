"""The web process's thread pool for blocking handlers, and the database pool sized to it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import anyio.to_thread

from app.services.core.db import size_pool_for
from app.settings import get_settings

# asyncio's default executor (asyncio.to_thread in Reflex event handlers and async routes) has
# min(32, cores + 4) threads; they take connections from the same pool.
_DEFAULT_EXECUTOR_THREADS = min(32, (os.cpu_count() or 1) + 4)


def size_database_pool() -> None:
    """Before any engine is made: room for every thread that may hold connections at once."""
    size_pool_for(get_settings().web_threads + _DEFAULT_EXECUTOR_THREADS)


@contextlib.asynccontextmanager
async def thread_limit_lifespan() -> AsyncIterator[None]:
    """Blocking handlers run on at most WEB_THREADS threads (the limiter is per event loop, so
    it is set from the server's lifespan)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads
    yield

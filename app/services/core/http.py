"""One shared `httpx.AsyncClient` per event loop, for every outbound HTTP call.

A client's pooled connections belong to the event loop that opened them, so a single client
for the whole process breaks as soon as a second loop uses it (`asyncio.run` in the CLI, a
test's own loop), while a client per call pays a new connection (TCP, TLS) every time. So:
one client per loop, made on first use and reused by every call on that loop.

It is closed when its loop shuts down: `asyncio.run`, `asyncio.Runner` and uvicorn call
`loop.shutdown_asyncgens()` on the way out, which closes the small async generator parked
beside each client (`_close_at_shutdown`). A server closes it earlier from its lifespan
(`http_lifespan`). Callers never close the shared client; each request passes its own
timeout, the client's are only a fallback.

    client = await shared_client()
    response = await client.get(url, timeout=httpx.Timeout(10.0))
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)
LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=10)
USER_AGENT = "JSONCraft"


def new_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """A client with our limits and User-Agent (some CDNs refuse requests without one).
    Prefer `shared_client()`; this is for code that must own and close its client."""
    return httpx.AsyncClient(
        timeout=timeout,
        limits=LIMITS,
        headers={"User-Agent": USER_AGENT},
        verify=tls_context(),
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every client shares, made once per process. Loading the CA bundle
    takes about 0.1 s, and each `asyncio.run` (a queue worker's image, a CLI call) starts a
    new loop and so a new client: made per client, it was most of a generation's overhead.
    SSLContext is safe to share between threads and clients."""
    return httpx.create_ssl_context()


@dataclass
class _Held:
    client: httpx.AsyncClient
    closer: AsyncGenerator[None, None] | None = None


# Keyed weakly so a loop that is dropped without shutting down takes its entry with it.
_held: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Held] = weakref.WeakKeyDictionary()
# Loops in other threads (a worker's, a test server's) share this table.
_lock = threading.Lock()


async def shared_client() -> httpx.AsyncClient:
    """The running loop's client, made on first use. Do not close it."""
    loop = asyncio.get_running_loop()
    with _lock:
        _forget_closed_loops()
        held = _held.get(loop)
        if held is not None and not held.client.is_closed:
            return held.client
        held = _held[loop] = _Held(new_client())
    # Started here so the loop tracks it (asyncio's async-generator hooks) and closes it,
    # with the client, when it shuts down. It runs to its `yield` without suspending.
    held.closer = _close_at_shutdown(loop, held)
    await held.closer.asend(None)
    return held.client


async def close_shared_client() -> None:
    """Close the running loop's client now (server shutdown); the next call makes a new one."""
    loop = asyncio.get_running_loop()
    with _lock:
        held = _held.pop(loop, None)
    if held is not None and held.closer is not None:
        await held.closer.aclose()  # closes the client
    elif held is not None:
        await held.client.aclose()


@contextlib.asynccontextmanager
async def http_lifespan() -> AsyncIterator[None]:
    """A server lifespan task: closes the server loop's shared client on shutdown."""
    try:
        yield
    finally:
        await close_shared_client()


async def _close_at_shutdown(
    loop: asyncio.AbstractEventLoop, held: _Held
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with _lock:
            if _held.get(loop) is held:
                del _held[loop]
        await held.client.aclose()


def _forget_closed_loops() -> None:
    # A loop closed without `shutdown_asyncgens` (a hand-driven `run_until_complete`) can no
    # longer close its client; drop the entry so neither is kept alive.
    for loop in [loop for loop in _held if loop.is_closed()]:
        del _held[loop]

"""The shared HTTP client: one per event loop, reused on it, closed when the loop shuts down."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

import httpx

from app.services.core.http import close_shared_client, http_lifespan, shared_client


def test_one_loop_gets_one_client_closed_when_the_loop_ends() -> None:
    async def calls() -> tuple[list[httpx.AsyncClient], bool]:
        first = await shared_client()
        rest = await asyncio.gather(*(shared_client() for _ in range(5)))
        return [first, *rest], first.is_closed

    clients, closed_while_running = asyncio.run(calls())

    assert all(client is clients[0] for client in clients)
    assert not closed_while_running
    assert clients[0].is_closed  # asyncio.run shut the loop down, closing it
    assert clients[0].headers["user-agent"] == "JSONCraft"


def test_a_new_loop_never_gets_an_old_loops_client() -> None:
    first = asyncio.run(shared_client())
    second = asyncio.run(shared_client())
    assert first is not second
    assert first.is_closed and second.is_closed


def test_loops_in_two_threads_get_their_own_clients() -> None:
    both_running = threading.Barrier(2, timeout=10)
    found: dict[str, httpx.AsyncClient] = {}

    async def hold(name: str) -> None:
        found[name] = await shared_client()
        await asyncio.to_thread(both_running.wait)  # both clients are alive at once
        assert await shared_client() is found[name]

    threads = [threading.Thread(target=asyncio.run, args=(hold(n),)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert set(found) == {"a", "b"}
    assert found["a"] is not found["b"]
    assert found["a"].is_closed and found["b"].is_closed


def test_closing_early_closes_now_and_the_next_call_opens_a_new_one() -> None:
    async def close_then_ask() -> tuple[httpx.AsyncClient, bool, httpx.AsyncClient]:
        first = await shared_client()
        await close_shared_client()
        closed = first.is_closed
        return first, closed, await shared_client()

    first, closed, second = asyncio.run(close_then_ask())
    assert closed
    assert second is not first
    assert second.is_closed


def test_the_server_lifespan_closes_the_client_at_shutdown() -> None:
    async def serve() -> tuple[httpx.AsyncClient, bool]:
        async with http_lifespan():
            client = await shared_client()
            open_while_serving = not client.is_closed
        return client, open_while_serving and client.is_closed

    _, closed_at_shutdown = asyncio.run(serve())
    assert closed_at_shutdown


def test_a_loop_closed_by_hand_is_not_kept_alive() -> None:
    # Without asyncio.run nothing shuts the loop's async generators down; its entry must
    # still go, or the table would hold every such loop (and its client) forever.
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(shared_client())
    loop.close()
    gone = weakref.ref(loop)
    del loop

    newer = asyncio.run(shared_client())
    gc.collect()

    assert newer is not client
    assert gone() is None

"""Proof that the backends share Reflex state through Redis, spoken over Reflex's own websocket
(Socket.IO on /_event, as the browser does): a tab switches the gallery to the list view through
one backend, then the same tab (its token) hydrates through the other and must see "list"; a
new tab there sees the default "grid", so the answer is the shared state, not a default."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import socketio

from app.state.gallery import GalleryState

NAMESPACE = "/_event"
HYDRATE = "reflex___state____state.hydrate"
ROUTER = {"pathname": "/gallery", "query": {}, "asPath": "/gallery"}
WAIT = 30.0


async def _gallery_view(backend: str, token: str, set_view: str | None = None) -> str:
    """Connect as the tab `token`, optionally set the view, hydrate; the view the state holds."""
    gallery = GalleryState.get_full_name()
    updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("event", updates.put_nowait, namespace=NAMESPACE)
    await client.connect(
        f"{backend}?token={token}",
        socketio_path="_event",
        transports=["websocket"],
        namespaces=[NAMESPACE],
    )
    try:
        events = [(HYDRATE, {})]
        if set_view is not None:
            events.append((f"{gallery}.set_view", {"view": set_view}))
        view = ""
        for name, payload in events:
            message = {"name": name, "payload": payload, "router_data": ROUTER}
            await client.emit("event", message, namespace=NAMESPACE)
            while True:  # the update that carries the gallery's state
                update = await asyncio.wait_for(updates.get(), WAIT)
                found = update.get("delta", {}).get(gallery)
                if found and "view_rx_state_" in found:
                    view = found["view_rx_state_"]
                    break
        return view
    finally:
        await client.disconnect()


async def prove_shared_state(backends: list[str]) -> str:
    first, second = backends[0], backends[1]
    tab = str(uuid.uuid4())
    await _gallery_view(first, tab, set_view="list")
    seen = await _gallery_view(second, tab)
    fresh = await _gallery_view(second, str(uuid.uuid4()))
    if seen != "list" or fresh != "grid":
        raise AssertionError(
            f"Reflex state not shared: other backend saw {seen!r} (new tab {fresh!r})"
        )
    return (
        "Reflex state shared: a view set through one backend's websocket is read through the other"
    )

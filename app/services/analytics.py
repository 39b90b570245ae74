"""Product analytics: server-side events to PostHog through its official SDK, off by default.

With POSTHOG_API_KEY set, `capture_after_commit` sends one of EVENTS for an account once the
transaction that made it true commits (a rolled-back sign-up sends nothing), to POSTHOG_HOST.
The SDK queues events and posts them in batches from its own thread, so a flow never waits for
PostHog and never fails because of it; `shutdown()` (registered at exit) sends what is queued.
Accounts are identified by their id only: no email or name leaves the app.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from posthog import Posthog
from sqlalchemy import event
from sqlmodel import Session

from app.services.core.logs import get_logger
from app.settings import get_settings

log = get_logger("analytics")

EVENTS = ("signed_up", "analysis_done", "generation_done", "subscription_started", "lora_trained")
_AFTER_COMMIT = "analytics.after_commit"

_lock = threading.Lock()
_client: Posthog | None = None
_client_for: tuple[str, str] | None = None  # (key, host) the client was made with


def capture(user_id: int | None, event_name: str, properties: dict[str, Any] | None = None) -> None:
    """Queue `event_name` for the account `user_id` (nothing when analytics is off)."""
    if event_name not in EVENTS:
        raise ValueError(f"unknown analytics event {event_name!r}")
    client = _current_client()
    if client is None or user_id is None:
        return
    try:
        client.capture(event_name, distinct_id=str(user_id), properties=dict(properties or {}))
    except Exception as e:  # analytics never breaks the flow it watches
        log.warning("analytics event %s not queued: %s", event_name, e)


def capture_after_commit(
    session: Session,
    user_id: int | None,
    event_name: str,
    properties: dict[str, Any] | None = None,
) -> None:
    """`capture` once `session` commits; forgotten if it rolls back."""
    if event_name not in EVENTS:
        raise ValueError(f"unknown analytics event {event_name!r}")
    if get_settings().posthog_api_key is None:
        return
    waiting: list[tuple[int | None, str, dict[str, Any]]] | None = session.info.get(_AFTER_COMMIT)
    if waiting is None:
        waiting = session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _send_waiting)
        event.listen(session, "after_soft_rollback", _forget_waiting)
    waiting.append((user_id, event_name, dict(properties or {})))


def shutdown() -> None:
    """Send what is queued and stop the SDK's thread."""
    global _client, _client_for
    with _lock:
        client, _client, _client_for = _client, None, None
    if client is not None:
        client.shutdown()


def _current_client() -> Posthog | None:
    """The SDK client for the current settings (tests change them), made on first use."""
    global _client, _client_for
    settings = get_settings()
    if settings.posthog_api_key is None:
        return None
    wanted = (settings.posthog_api_key.get_secret_value(), settings.posthog_host.rstrip("/"))
    stale = None
    with _lock:
        if _client is None or _client_for != wanted:
            stale = _client
            _client = Posthog(
                wanted[0],
                host=wanted[1],
                gzip=True,
                capture_mode="v0",  # the /batch/ endpoint, whatever POSTHOG_CAPTURE_MODE says
                disable_geoip=True,
                enable_local_evaluation=False,  # events only: no feature-flag polling
            )
            _client_for = wanted
        client = _client
    if stale is not None:
        stale.shutdown()
    return client


def _send_waiting(session: Session) -> None:
    waiting = session.info.get(_AFTER_COMMIT, [])
    ready, waiting[:] = list(waiting), []
    for user_id, event_name, properties in ready:
        capture(user_id, event_name, properties)


def _forget_waiting(session: Session, _previous: object) -> None:
    session.info.get(_AFTER_COMMIT, []).clear()


atexit.register(shutdown)

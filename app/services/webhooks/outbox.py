"""Events into the webhook outbox: one delivery row per subscribed endpoint.

`emit` writes in the caller's transaction, so an event exists exactly when the change that
caused it was committed: nothing is sent for a rolled-back change, and nothing committed is lost
if the process dies before sending. The rows are queued for sending the moment the caller's
transaction commits (dispatch.py `kick_after_commit`), and the worker's sweep finds any the
kick missed.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.services.core.models import WebhookDelivery, WebhookEndpoint, utcnow
from app.services.webhooks.dispatch import kick_after_commit
from app.services.webhooks.events import EVENTS

__all__ = ["EVENTS", "emit", "event_body", "new_message_id"]


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def event_body(event_type: str, data: dict[str, Any], *, when: datetime | None = None) -> str:
    """The body every delivery carries: `{"type", "timestamp", "data"}` (compact JSON)."""
    stamp = (when or utcnow()).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": stamp, "data": data}, separators=(",", ":"))


def emit(session: Session, *, project_id: int, event_type: str, data: dict[str, Any]) -> list[str]:
    """Queue `event_type` for every enabled endpoint of the project that subscribes to it.

    Returns the new deliveries' ids (their `webhook-id`s)."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    now = utcnow()
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.project_id == project_id, WebhookEndpoint.enabled
        )
    ).all()
    body = event_body(event_type, data, when=now)
    ids: list[str] = []
    for endpoint in endpoints:
        if event_type not in endpoint.events or endpoint.id is None:
            continue
        delivery = WebhookDelivery(
            id=new_message_id(),
            endpoint_id=endpoint.id,
            project_id=project_id,
            event_type=event_type,
            payload=body,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(delivery)
        ids.append(delivery.id)
    session.flush()
    kick_after_commit(session, ids)
    return ids

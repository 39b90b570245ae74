"""A project's webhook endpoints: add, list, enable or disable, delete, rotate the secret.

Callers pass a project the person may manage (uploads/projects.py `get_owned_project`, or a
key with the "manage" scope); an endpoint of another project is "not found". The secret is
shown once, when it is made, and stored sealed (core/secret_box.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from app.services.core.secret_box import open_secret, seal_secret
from app.services.webhooks.destinations import check_destination
from app.services.webhooks.events import EVENTS
from app.services.webhooks.signing import new_secret
from app.settings import get_settings

MAX_ENDPOINTS = 20  # per project
ROTATION_GRACE = timedelta(hours=24)  # the previous secret keeps signing this long
DISABLED_BY_OWNER = "Disabled by the owner."
ENDPOINT_DISABLED = "endpoint disabled"


@dataclass(frozen=True)
class NewEndpoint:
    id: int
    secret: str  # the only time it is shown


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    previous_secret_expires_at: datetime | None


def view(endpoint: WebhookEndpoint) -> EndpointView:
    assert endpoint.id is not None
    return EndpointView(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        disabled_at=endpoint.disabled_at,
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
    )


def clean_events(events: list[str]) -> list[str]:
    """The events asked for, known ones only, each once, in the order of EVENTS."""
    if not events:
        raise InvalidInputError("Choose at least one event: " + ", ".join(EVENTS) + ".")
    unknown = sorted({e for e in events if e not in EVENTS})
    if unknown:
        raise InvalidInputError(
            f"Unknown event {unknown[0]!r}; the events are: " + ", ".join(EVENTS) + "."
        )
    return [e for e in EVENTS if e in events]


def create_endpoint(
    session: Session, *, project_id: int, url: str, events: list[str]
) -> NewEndpoint:
    chosen = clean_events(events)
    destination = check_destination(
        url, allow_private=get_settings().webhook_allow_private_networks
    )
    count = len(
        session.exec(
            select(WebhookEndpoint.id).where(WebhookEndpoint.project_id == project_id)
        ).all()
    )
    if count >= MAX_ENDPOINTS:
        raise InvalidInputError(f"A project has at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = new_secret()
    endpoint = WebhookEndpoint(
        project_id=project_id,
        url=destination.url,
        events=chosen,
        secret_enc=seal_secret(secret),
    )
    session.add(endpoint)
    session.flush()
    assert endpoint.id is not None
    return NewEndpoint(id=endpoint.id, secret=secret)


def list_endpoints(session: Session, *, project_id: int) -> list[EndpointView]:
    rows = session.exec(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.project_id == project_id)
        .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    ).all()
    return [view(row) for row in rows]


def get_endpoint(session: Session, *, project_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.project_id != project_id:
        raise NotFoundError("No such webhook endpoint.")
    return endpoint


def disable(session: Session, endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Stop sending to `endpoint`: it gets no new events, and what was still pending for it
    ends failed ("endpoint disabled"), so nothing waits forever on a dead endpoint."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:300]
    endpoint.disabled_at = utcnow()
    session.add(endpoint)
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.status) == "pending",
        )
        .values(status="failed", last_error=ENDPOINT_DISABLED, leased_until=None)
    )
    session.flush()


def set_enabled(session: Session, *, project_id: int, endpoint_id: int, enabled: bool) -> None:
    endpoint = get_endpoint(session, project_id=project_id, endpoint_id=endpoint_id)
    if enabled:
        endpoint.enabled = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None  # a fresh start: five more days before it is disabled
        session.add(endpoint)
        session.flush()
    elif endpoint.enabled:
        disable(session, endpoint, reason=DISABLED_BY_OWNER)


def delete_endpoint(session: Session, *, project_id: int, endpoint_id: int) -> None:
    """The endpoint with its deliveries and their log."""
    endpoint = get_endpoint(session, project_id=project_id, endpoint_id=endpoint_id)
    # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign keys turned on.
    delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
    session.execute(
        WebhookAttempt.__table__.delete().where(  # type: ignore[attr-defined]
            col(WebhookAttempt.delivery_id).in_(delivery_ids)
        )
    )
    session.execute(
        WebhookDelivery.__table__.delete().where(  # type: ignore[attr-defined]
            col(WebhookDelivery.endpoint_id) == endpoint_id
        )
    )
    session.delete(endpoint)
    session.flush()


def rotate_secret(session: Session, *, project_id: int, endpoint_id: int) -> str:
    """A new secret (returned, shown once); the current one keeps signing for 24 hours."""
    endpoint = get_endpoint(session, project_id=project_id, endpoint_id=endpoint_id)
    secret = new_secret()
    endpoint.previous_secret_enc = endpoint.secret_enc
    endpoint.previous_secret_expires_at = utcnow() + ROTATION_GRACE
    endpoint.secret_enc = seal_secret(secret)
    session.add(endpoint)
    session.flush()
    return secret


def live_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, then the previous one while its
    grace period lasts."""
    found = [open_secret(endpoint.secret_enc)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_enc and expires is not None and expires > (now or utcnow()):
        found.append(open_secret(endpoint.previous_secret_enc))
    return found

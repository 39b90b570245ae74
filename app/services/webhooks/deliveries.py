"""The delivery log of an endpoint, replays, and test events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from app.services.core.errors import ConflictError, NotFoundError
from app.services.core.models import WebhookAttempt, WebhookDelivery, utcnow
from app.services.webhooks.dispatch import kick_after_commit
from app.services.webhooks.endpoints import get_endpoint
from app.services.webhooks.outbox import event_body, new_message_id
from app.services.webhooks.sender import TEST_EVENT

LOG_LIMIT = 50  # deliveries shown per endpoint, newest first
ATTEMPTS_SHOWN = 10  # the latest attempts of each


@dataclass(frozen=True)
class AttemptView:
    attempted_at: datetime
    trigger: str
    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[AttemptView] = field(default_factory=list)


def list_deliveries(
    session: Session, *, project_id: int, endpoint_id: int, limit: int = LOG_LIMIT
) -> list[DeliveryView]:
    get_endpoint(session, project_id=project_id, endpoint_id=endpoint_id)
    rows = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    ids = [row.id for row in rows]
    attempts: dict[str, list[AttemptView]] = {delivery_id: [] for delivery_id in ids}
    if ids:
        for attempt in session.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(ids))
            .order_by(col(WebhookAttempt.attempted_at).desc(), col(WebhookAttempt.id).desc())
        ).all():
            shown = attempts[attempt.delivery_id]
            if len(shown) < ATTEMPTS_SHOWN:
                shown.append(
                    AttemptView(
                        attempted_at=attempt.attempted_at,
                        trigger=attempt.trigger,
                        status_code=attempt.status_code,
                        duration_ms=attempt.duration_ms,
                        response_excerpt=attempt.response_excerpt,
                        error=attempt.error,
                    )
                )
    return [
        DeliveryView(
            id=row.id,
            event_type=row.event_type,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            log=attempts[row.id],
        )
        for row in rows
    ]


def replay_delivery(session: Session, *, delivery_id: str, project_id: int | None = None) -> str:
    """One more attempt of the same message (same `webhook-id`, same body), whatever its
    status; queued when the caller's transaction commits. `project_id` limits it to one
    project (None: the operator's CLI). Returns the endpoint URL it goes to.

    A failed delivery gets one attempt; if it fails it ends failed again. A pending one is
    simply made due now."""
    delivery = session.get(WebhookDelivery, delivery_id.strip()) if delivery_id else None
    if delivery is None or (project_id is not None and delivery.project_id != project_id):
        raise NotFoundError("No such webhook delivery.")
    endpoint = get_endpoint(
        session, project_id=delivery.project_id, endpoint_id=delivery.endpoint_id
    )
    if not endpoint.enabled:
        raise ConflictError("The endpoint is disabled: enable it before replaying.")
    if delivery.leased_until is not None and delivery.leased_until > utcnow():
        # Its sender would overwrite the replay's schedule when it records its own attempt.
        raise ConflictError("It is being sent right now: replay it once that attempt ends.")
    delivery.status = "pending"
    delivery.next_attempt_at = utcnow()
    session.add(delivery)
    session.flush()
    kick_after_commit(session, [delivery.id], trigger="replay")
    return endpoint.url


def send_test_event(session: Session, *, project_id: int, endpoint_id: int) -> str:
    """A `webhook.test` delivery to this endpoint only; returns its id (the webhook-id)."""
    endpoint = get_endpoint(session, project_id=project_id, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise ConflictError("The endpoint is disabled: enable it before sending a test event.")
    now = utcnow()
    data = {"endpoint_id": endpoint_id, "message": "A test event from JSONCraft."}
    delivery = WebhookDelivery(
        id=new_message_id(),
        endpoint_id=endpoint_id,
        project_id=project_id,
        event_type=TEST_EVENT,
        payload=event_body(TEST_EVENT, data, when=now),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    kick_after_commit(session, [delivery.id])
    return delivery.id

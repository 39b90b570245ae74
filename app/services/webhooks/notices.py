"""What the owner is told about endpoints that stopped working (no email system yet).

An endpoint disabled automatically (410 Gone, or failing for 5 days) is listed on the
project's pages until the owner enables or deletes it; a log line was written when it happened.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.services.core.models import WebhookEndpoint
from app.services.webhooks.endpoints import DISABLED_BY_OWNER


def disabled_endpoint_notices(session: Session, *, project_id: int) -> list[str]:
    rows = session.exec(
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.project_id == project_id,
            col(WebhookEndpoint.enabled).is_(False),
        )
        .order_by(col(WebhookEndpoint.id))
    ).all()
    return [
        f"Webhook endpoint {row.url} was disabled: {row.disabled_reason}"
        for row in rows
        if row.disabled_reason and row.disabled_reason != DISABLED_BY_OWNER
    ]

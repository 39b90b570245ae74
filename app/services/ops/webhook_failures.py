"""Webhook endpoints in trouble: failing since some time, or disabled after too many failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.services.core.models import Project, User, WebhookAttempt, WebhookEndpoint
from app.services.ops.access import require_admin
from app.services.ops.clock import aware

LIMIT = 50


@dataclass(frozen=True)
class FailingEndpoint:
    id: int
    project_id: int
    project_name: str
    url: str
    enabled: bool
    since: datetime | None  # failing since, or disabled at
    disabled_reason: str | None
    last_error: str | None


def _describe(attempt: WebhookAttempt) -> str:
    if attempt.error:
        return attempt.error
    return f"HTTP {attempt.status_code}"


def failing_endpoints(session: Session, *, actor: User | None) -> list[FailingEndpoint]:
    require_admin(actor)
    rows = session.exec(
        select(WebhookEndpoint, Project)
        .join(Project, col(Project.id) == col(WebhookEndpoint.project_id))
        .where(
            or_(
                col(WebhookEndpoint.failing_since).is_not(None),
                col(WebhookEndpoint.enabled).is_(False),
            )
        )
        .order_by(col(WebhookEndpoint.id))
        .limit(LIMIT)
    ).all()
    found = []
    for endpoint, project in rows:
        attempt = session.exec(
            select(WebhookAttempt)
            .where(
                col(WebhookAttempt.endpoint_id) == endpoint.id,
                or_(
                    col(WebhookAttempt.error).is_not(None),
                    col(WebhookAttempt.status_code) >= 300,
                ),
            )
            .order_by(col(WebhookAttempt.attempted_at).desc(), col(WebhookAttempt.id).desc())
            .limit(1)
        ).first()
        since = endpoint.failing_since or endpoint.disabled_at
        found.append(
            FailingEndpoint(
                id=endpoint.id or 0,
                project_id=project.id or 0,
                project_name=project.name,
                url=endpoint.url,
                enabled=endpoint.enabled,
                since=None if since is None else aware(since),
                disabled_reason=endpoint.disabled_reason,
                last_error=None if attempt is None else _describe(attempt),
            )
        )
    # Longest in trouble first.
    return sorted(found, key=lambda e: (e.since is None, e.since or datetime.min))

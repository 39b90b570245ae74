"""What the Webhooks tab shows of endpoints and deliveries: small typed rows, no ORM objects.

Built from the services' views in the service thread (`project_page`), so the page only reads
these rows."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from app.services.uploads.ownership import get_owned_project
from app.services.webhooks.deliveries import DeliveryView, list_deliveries
from app.services.webhooks.endpoints import EndpointView, list_endpoints
from app.services.webhooks.notices import disabled_endpoint_notices

DELIVERY_STATUS = {"pending": "blue", "succeeded": "green", "failed": "red"}


@dataclasses.dataclass
class AttemptRow:
    when: str = ""
    code: str = ""  # "200", or "no answer"
    duration: str = ""
    excerpt: str = ""
    error: str = ""
    trigger: str = ""


@dataclasses.dataclass
class DeliveryRow:
    id: str = ""
    event: str = ""
    status: str = ""
    color: str = "gray"
    attempts: str = ""  # "1 attempt", "3 attempts"
    next_retry: str = ""
    created: str = ""
    reason: str = ""  # why a failed delivery ended: "endpoint disabled", "HTTP 500"...
    log: list[AttemptRow] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class EndpointRow:
    id: int = 0
    url: str = ""
    events: str = ""
    enabled: bool = True
    status: str = ""
    color: str = "gray"
    detail: str = ""  # why it is disabled, or since when it fails
    deliveries: list[DeliveryRow] = dataclasses.field(default_factory=list)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def delivery_row(view: DeliveryView) -> DeliveryRow:
    return DeliveryRow(
        id=view.id,
        event=view.event_type,
        status=view.status,
        color=DELIVERY_STATUS.get(view.status, "gray"),
        attempts=f"{view.attempts} attempt" + ("" if view.attempts == 1 else "s"),
        next_retry=_when(view.next_attempt_at) if view.attempts else "",
        created=_when(view.created_at),
        reason=(view.last_error or "") if view.status == "failed" else "",
        log=[
            AttemptRow(
                when=_when(a.attempted_at),
                code=str(a.status_code) if a.status_code is not None else "no answer",
                duration=f"{a.duration_ms} ms",
                excerpt=a.response_excerpt,
                error=a.error or "",
                trigger=a.trigger,
            )
            for a in view.log
        ],
    )


def endpoint_row(view: EndpointView, deliveries: list[DeliveryView]) -> EndpointRow:
    if not view.enabled:
        status, color, detail = "Disabled", "red", view.disabled_reason or ""
    elif view.failing_since is not None:
        status, color = "Failing", "orange"
        detail = f"Failing since {_when(view.failing_since)}"
    else:
        status, color, detail = "Enabled", "green", ""
    return EndpointRow(
        id=view.id,
        url=view.url,
        events=", ".join(view.events),
        enabled=view.enabled,
        status=status,
        color=color,
        detail=detail,
        deliveries=[delivery_row(d) for d in deliveries],
    )


def project_page(session: Any, user: Any, project_id: int) -> dict[str, Any]:
    """Everything the tab shows, for the project's owner (NotFound for anyone else)."""
    project = get_owned_project(session, owner=user, project_id=project_id)
    rows = [
        endpoint_row(e, list_deliveries(session, project_id=project_id, endpoint_id=e.id))
        for e in list_endpoints(session, project_id=project_id)
    ]
    return {
        "name": project.name,
        "endpoints": rows,
        "notices": disabled_endpoint_notices(session, project_id=project_id),
        "pending": any(d.status == "pending" for r in rows for d in r.deliveries),
    }

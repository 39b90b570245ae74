"""Sending one delivery: lease it, POST it signed, record the attempt, decide what comes next.

Runs in a queue worker (dispatch.py's `send_webhook` task), never in a web request. The lease
(`leased_until`) makes a delivery belong to one sender at a time, and lasts well beyond the
15 s timeout; a worker killed mid-delivery leaves its lease to run out, and the sweep then
sends it again with the same `webhook-id`, so receivers can tell it is the same message.

The HTTP request goes to the address the SSRF check approved (destinations.py), not to a
second lookup of the name; the Host header and TLS (SNI and certificate check) still use the
name, so virtual hosts and HTTPS work as usual. Redirects are not followed: a 3xx fails.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, update
from sqlmodel import Session, col

from app.services.core import metrics
from app.services.core.db import session_scope
from app.services.core.http import USER_AGENT, tls_context
from app.services.core.logs import get_logger
from app.services.core.models import (
    Project,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.services.notify import triggers
from app.services.webhooks.destinations import DestinationRefusedError, check_destination
from app.services.webhooks.endpoints import ENDPOINT_DISABLED, disable, live_secrets
from app.services.webhooks.schedule import FAILING_LIMIT, retry_delay
from app.services.webhooks.signing import signed_headers
from app.settings import get_settings

log = get_logger("webhooks")

TIMEOUT_SECONDS = 15.0
EXCERPT_CHARS = 1000
TEST_EVENT = "webhook.test"
GONE_REASON = "The endpoint answered 410 Gone."


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_client_lock = threading.Lock()
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    """One client per process, shared by the worker's threads (httpx.Client is thread-safe)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=httpx.Timeout(TIMEOUT_SECONDS),
                follow_redirects=False,
                verify=tls_context(),
                headers={"User-Agent": USER_AGENT + "-Webhooks"},
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            )
        return _client


def post(url: str, *, message_id: str, body: str, secrets_: list[str]) -> Outcome:
    """One signed POST of `body`; never raises for a network or HTTP failure."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        destination = check_destination(
            url, allow_private=get_settings().webhook_allow_private_networks
        )
    except DestinationRefusedError as exc:
        return Outcome(None, took(), "", f"Refused: {exc.message}"[:500])
    headers = signed_headers(message_id=message_id, body=body, when=utcnow(), secrets_=secrets_)
    headers["content-type"] = "application/json"
    target = httpx.URL(destination.url)
    headers["host"] = target.netloc.decode("ascii")
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    try:
        with _http().stream(
            "POST",
            target.copy_with(host=destination.address),
            content=body.encode(),
            headers=headers,
            extensions=extensions,
        ) as response:
            excerpt = _excerpt(response)
            return Outcome(response.status_code, took(), excerpt, None)
    except httpx.TimeoutException:
        return Outcome(None, took(), "", f"No answer within {TIMEOUT_SECONDS:.0f} s.")
    except httpx.HTTPError as exc:
        return Outcome(None, took(), "", f"Could not connect: {type(exc).__name__}.")


def _excerpt(response: httpx.Response) -> str:
    """The start of the answer, read no further than needed (an endpoint may send megabytes)."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= EXCERPT_CHARS * 4:
            break
    return data.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _claim(session: Session, delivery_id: str, now: datetime, lease: datetime) -> bool:
    result = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) == "pending",
            col(WebhookDelivery.next_attempt_at) <= now,
            or_(
                col(WebhookDelivery.leased_until).is_(None),
                col(WebhookDelivery.leased_until) < now,
            ),
        )
        .values(leased_until=lease)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0) == 1


def send_delivery(delivery_id: str, trigger: str = "auto") -> str | None:
    """Send `delivery_id` if it is due and nobody holds it. Returns its status afterwards
    ("succeeded", "pending" for a retry, "failed"), or None when there was nothing to do."""
    settings = get_settings()
    now = utcnow()
    lease = now + timedelta(seconds=settings.webhook_lease_seconds)
    with session_scope() as session:
        if not _claim(session, delivery_id, now, lease):
            return None
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            delivery.status = "failed"
            delivery.last_error = ENDPOINT_DISABLED
            delivery.leased_until = None
            session.add(delivery)
            return "failed"
        url, body, secrets_ = endpoint.url, delivery.payload, live_secrets(endpoint)
        if delivery.event_type == TEST_EVENT and trigger == "auto":
            trigger = "test"
    outcome = post(url, message_id=delivery_id, body=body, secrets_=secrets_)
    with session_scope() as session:
        status = _record(session, delivery_id, lease=lease, trigger=trigger, outcome=outcome)
    # Counted per attempt, once its record is committed.
    if outcome.ok:
        metrics.WEBHOOK_DELIVERIES.labels(outcome="delivered").inc()
    else:
        metrics.WEBHOOK_DELIVERIES.labels(
            outcome="failed" if status == "failed" else "retrying"
        ).inc()
    return status


def _record(
    session: Session, delivery_id: str, *, lease: datetime, trigger: str, outcome: Outcome
) -> str | None:
    now = utcnow()
    # Locked before the attempt row is inserted: on MySQL that insert share-locks the
    # delivery (foreign key), and upgrading to the update's exclusive lock while a racing
    # sender's claim waits for it is a deadlock. Locked first, the claim just waits.
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:  # deleted with its endpoint while we were sending
        return None
    session.add(
        WebhookAttempt(
            delivery_id=delivery_id,
            endpoint_id=delivery.endpoint_id,
            trigger=trigger,
            attempted_at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    )
    if delivery.leased_until != lease or delivery.status != "pending":
        # Our lease ran out and another sender took over: the attempt is logged, the
        # delivery's state is theirs to decide.
        log.warning("webhook %s: lease lost while sending; attempt logged only", delivery_id)
        return delivery.status
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.leased_until = None
    if outcome.ok:
        delivery.status = "succeeded"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = None
        if endpoint is not None:
            endpoint.failing_since = None
            session.add(endpoint)
        session.add(delivery)
        return delivery.status
    delivery.last_error = (outcome.error or f"HTTP {outcome.status_code}")[:500]
    delay = retry_delay(delivery.attempts, scale=get_settings().webhook_retry_scale)
    if delay is None:
        delivery.status = "failed"
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + delay
    session.add(delivery)
    if endpoint is not None and endpoint.enabled:
        _note_failure(session, endpoint, status_code=outcome.status_code, now=now)
    return delivery.status


def _note_failure(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    status_code: int | None,
    now: datetime,
) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        session.add(endpoint)
    if status_code == 410:
        log.warning("webhook endpoint %s answered 410 Gone: disabled", endpoint.id)
        session.flush()
        disable(session, endpoint, reason=GONE_REASON)
        _tell_owner(session, endpoint)
        return
    since = endpoint.failing_since
    if now - since >= FAILING_LIMIT:
        reason = f"Disabled after failing for 5 days (since {since:%Y-%m-%d %H:%M} UTC)."
        # The owner is told by email and by the notice on the project's pages (notices.py).
        log.warning(
            "webhook endpoint %s of project %s failed for 5 days: disabled",
            endpoint.id,
            endpoint.project_id,
        )
        session.flush()
        disable(session, endpoint, reason=reason)
        _tell_owner(session, endpoint)


def _tell_owner(session: Session, endpoint: WebhookEndpoint) -> None:
    """The "endpoint disabled" email to the project's owner, in the disabling transaction."""
    project = session.get(Project, endpoint.project_id)
    owner = session.get(User, project.owner_id) if project is not None else None
    if project is None or owner is None or endpoint.id is None:
        return
    triggers.webhook_endpoint_disabled(
        session,
        owner=owner,
        project_id=endpoint.project_id,
        project_name=project.name,
        endpoint_id=endpoint.id,
        endpoint_url=endpoint.url,
        reason=endpoint.disabled_reason or "",
        disabled_at=endpoint.disabled_at or utcnow(),
    )

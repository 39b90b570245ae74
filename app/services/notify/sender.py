"""Sending one outbox email: lease it, render it, hand it to SMTP, record what happened.

Runs in a queue worker (dispatch.py's `send_email` task). The lease (`leased_until`) makes an
email belong to one sender at a time and outlasts several SMTP timeouts; a worker killed
mid-send leaves its lease to run out, and the sweep then sends it again with the same
Message-ID (chosen at the first claim), so a receiving server can tell it is the same email.

With no SMTP_HOST the email is not sent but kept as "outbox" for admins (/admin/system).
An email whose kind the recipient switched off after it was queued, or whose account is gone
or inactive, is not sent either: it ends "failed" with the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jinja2 import TemplateError
from sqlalchemy import or_, update
from sqlmodel import Session, col

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import EmailMessage, User, utcnow
from app.services.notify.render import mime_message, new_message_id, render
from app.services.notify.schedule import retry_delay
from app.services.notify.smtp import SmtpSendError, send_mime
from app.settings import Settings, get_settings

log = get_logger("email")

OUTBOX = "outbox"
NOT_WANTED = "Not sent: the recipient switched this kind of email off."
NO_RECIPIENT = "Not sent: the recipient's account is closed or deleted."


def lease_length(settings: Settings) -> timedelta:
    """Longer than a whole send can take: connecting, EHLO, STARTTLS, login, MAIL, RCPT, DATA
    and its answer may each take up to SMTP_TIMEOUT_SECONDS (4 minutes at the default 30 s)."""
    return timedelta(seconds=settings.smtp_timeout_seconds * 8)


def claim(email_id: int, *, now: datetime | None = None) -> datetime | None:
    """Lease `email_id` if it is queued, due and nobody holds it; the lease's end, or None."""
    now = now or utcnow()
    lease = now + lease_length(get_settings())
    with session_scope() as session:
        result = session.execute(
            update(EmailMessage)
            .where(
                col(EmailMessage.id) == email_id,
                col(EmailMessage.status) == "queued",
                col(EmailMessage.next_attempt_at) <= now,
                or_(
                    col(EmailMessage.leased_until).is_(None),
                    col(EmailMessage.leased_until) < now,
                ),
            )
            .values(leased_until=lease)
        )
    return lease if int(getattr(result, "rowcount", 0) or 0) == 1 else None


def send_email(email_id: int, *, now: datetime | None = None) -> str | None:
    """Send `email_id` if it is due and nobody holds it. Its status afterwards ("sent",
    "queued" for a retry, "failed", "outbox"), or None when there was nothing to do."""
    settings = get_settings()
    lease = claim(email_id, now=now)
    if lease is None:
        return None
    with session_scope() as session:
        message = session.get(EmailMessage, email_id)
        assert message is not None
        refusal = _refusal(session, message)
        if refusal is not None:
            return _finish(message, status="failed", error=refusal)
        if not settings.smtp_host:
            return _finish(message, status=OUTBOX, error=None)
        if message.message_id is None:  # kept for every retry: the same email, sent again
            message.message_id = new_message_id(settings.smtp_from)
        try:
            mime = mime_message(
                render(message), sender=settings.smtp_from, message_id=message.message_id
            )
        except (TemplateError, ValueError) as e:
            log.error("email %s (%s) could not be rendered", email_id, message.kind, exc_info=True)
            return _finish(message, status="failed", error=f"Could not render: {type(e).__name__}.")
        session.add(message)
    try:
        send_mime(mime, settings=settings)
        failure: SmtpSendError | None = None
    except SmtpSendError as e:
        failure = e
    with session_scope() as session:
        return _record(session, email_id, lease=lease, failure=failure)


def _refusal(session: Session, message: EmailMessage) -> str | None:
    user = session.get(User, message.user_id) if message.user_id is not None else None
    if user is None or not user.is_active:
        return NO_RECIPIENT
    if message.kind in (user.email_opt_out or []):
        return NOT_WANTED
    return None


def _finish(message: EmailMessage, *, status: str, error: str | None) -> str:
    """End `message` without an SMTP attempt (in the caller's session)."""
    message.status = status
    message.last_error = error
    message.leased_until = None
    message.next_attempt_at = None
    return status


def _record(
    session: Session, email_id: int, *, lease: datetime, failure: SmtpSendError | None
) -> str | None:
    now = utcnow()
    message = session.get(EmailMessage, email_id)
    if message is None:
        return None
    if message.leased_until != lease or message.status != "queued":
        # Our lease ran out and another sender took over: what happens next is theirs.
        log.warning("email %s: lease lost while sending; result not recorded", email_id)
        return message.status
    message.attempts += 1
    message.leased_until = None
    if failure is None:
        message.status = "sent"
        message.sent_at = now
        message.next_attempt_at = None
        message.last_error = None
        log.info("email %s (%s) sent", email_id, message.kind)
        return message.status
    message.last_error = failure.error[:500]
    delay = retry_delay(message.attempts) if failure.temporary else None
    if delay is None:
        message.status = "failed"
        message.next_attempt_at = None
        log.warning("email %s (%s) failed: %s", email_id, message.kind, failure.error)
    else:
        message.next_attempt_at = now + delay
        log.info("email %s: %s; trying again in %s", email_id, failure.error, delay)
    return message.status

"""Emails into the outbox: one `EmailMessage` row, written in the caller's transaction.

Like the webhook outbox, an email exists exactly when the change that caused it was committed.
The sender (the job queue) renders the kind's templates from `context` at send time and retries
failures; with no SMTP_HOST the row is kept as "outbox" for admins to read.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.services.core.models import EmailMessage, User, utcnow
from app.services.notify.dispatch import kick_after_commit
from app.services.notify.kinds import KINDS
from app.services.notify.sender import OUTBOX
from app.settings import get_settings


def notify(
    session: Session,
    *,
    user: User,
    kind: str,
    subject: str,
    context: dict[str, Any],
    dedupe_key: str | None = None,
) -> EmailMessage | None:
    """Queue one email of `kind` to `user`. None when the user switched this kind off, the
    account is inactive, or an email with this `dedupe_key` already exists."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown email kind {kind!r}")
    missing = [key for key in spec.context if key not in context]
    if missing:
        raise ValueError(f"email {kind!r} needs context {missing}")
    if not user.is_active or kind in (user.email_opt_out or []):
        return None
    if (
        dedupe_key is not None
        and session.exec(
            select(EmailMessage.id).where(EmailMessage.dedupe_key == dedupe_key)
        ).first()
    ):
        return None
    # With no SMTP server the email goes straight to the outbox admins read: no task to run.
    offline = not get_settings().smtp_host
    message = EmailMessage(
        user_id=user.id,
        to_address=user.email,
        kind=kind,
        # One line: a title with a line break must never become a second header (Bcc: ...).
        subject=" ".join(subject.split())[:300],
        context=context,
        dedupe_key=dedupe_key,
        status=OUTBOX if offline else "queued",
        next_attempt_at=None if offline else utcnow(),
    )
    session.add(message)
    session.flush()
    if not offline:
        assert message.id is not None
        kick_after_commit(session, [message.id])
    return message

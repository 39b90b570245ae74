"""The email outbox as admins read it: every EmailMessage, newest first, filtered by status,
and one message opened with what its recipient gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.services.core.errors import NotFoundError
from app.services.core.logs import get_logger
from app.services.core.models import EmailMessage, User
from app.services.notify.render import render
from app.services.ops.access import require_admin
from app.services.ops.clock import aware

STATUSES = ("outbox", "queued", "failed", "sent")
PAGE_SIZE = 20

log = get_logger("ops")


@dataclass(frozen=True)
class EmailRow:
    id: int
    to_address: str
    kind: str
    subject: str
    status: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class EmailPage:
    rows: list[EmailRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class EmailDetail:
    row: EmailRow
    last_error: str | None
    sent_at: datetime | None
    context: dict[str, Any]
    text: str  # the plain-text body as sent, or the context laid out when it can't be rendered


TextRenderer = Callable[[EmailMessage], str]


def context_text(message: EmailMessage) -> str:
    lines = [f"{key}: {value}" for key, value in sorted(message.context.items())]
    return "\n".join(lines) or "(no context)"


def rendered_text(message: EmailMessage) -> str:
    """The plain-text part exactly as the recipient gets it. A row the templates can't render
    (a context written by an older version) is still readable: its facts, one per line."""
    try:
        return render(message).text
    except Exception:
        log.warning("email %s could not be rendered for the outbox view", message.id, exc_info=True)
        return context_text(message)


def _row(m: EmailMessage) -> EmailRow:
    return EmailRow(
        id=m.id or 0,
        to_address=m.to_address,
        kind=m.kind,
        subject=m.subject,
        status=m.status,
        attempts=m.attempts,
        created_at=aware(m.created_at),
    )


def list_emails(
    session: Session, *, actor: User | None, status: str = "", page: int = 1
) -> EmailPage:
    require_admin(actor)
    where = [col(EmailMessage.status) == status] if status in STATUSES else []
    total = int(session.exec(select(func.count()).select_from(EmailMessage).where(*where)).one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.exec(
        select(EmailMessage)
        .where(*where)
        .order_by(col(EmailMessage.created_at).desc(), col(EmailMessage.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return EmailPage(rows=[_row(m) for m in rows], total=total, page=page, pages=pages)


def read_email(
    session: Session,
    *,
    actor: User | None,
    email_id: int,
    render_text: TextRenderer = rendered_text,
) -> EmailDetail:
    require_admin(actor)
    message = session.get(EmailMessage, email_id)
    if message is None:
        raise NotFoundError("That email is not in the outbox any more.")
    return EmailDetail(
        row=_row(message),
        last_error=message.last_error,
        sent_at=None if message.sent_at is None else aware(message.sent_at),
        context=dict(message.context),
        text=render_text(message),
    )

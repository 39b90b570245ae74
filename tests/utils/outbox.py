"""Reading the email outbox in tests: what a flow queued, checked against the kinds' contract."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.services.core.models import EmailMessage
from app.services.notify.kinds import KINDS


def emails(session: Session, kind: str | None = None) -> list[EmailMessage]:
    """The queued emails (of `kind`), oldest first, as committed by whoever wrote them."""
    session.commit()  # a new snapshot: the worker or the API wrote them on other connections
    session.expire_all()
    query = select(EmailMessage).order_by(col(EmailMessage.id))
    if kind is not None:
        query = query.where(EmailMessage.kind == kind)
    return list(session.exec(query).all())


def only_email(session: Session, kind: str, *, to: str) -> EmailMessage:
    """The one email of `kind`, to `to`, carrying exactly the context keys its kind names."""
    found = emails(session, kind)
    assert len(found) == 1, [(m.kind, m.subject) for m in found]
    message = found[0]
    assert message.to_address == to
    assert sorted(message.context) == sorted(KINDS[kind].context)
    return message

"""Payments as users and admins see them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.services.accounts.auth import require_role
from app.services.billing.billing.setup import MAX_HISTORY
from app.services.core.errors import (
    InvalidInputError,
)
from app.services.core.models import Payment, Role, User


def billing_history(session: Session, *, user_id: int, limit: int = 50) -> list[Payment]:
    """A user's payments and refunds, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInputError(f"Ask for between 1 and {MAX_HISTORY} payments at a time.")
    return list(
        session.exec(
            select(Payment)
            .where(Payment.user_id == user_id)
            .order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
            .limit(limit)
        )
    )


def payments_log(
    session: Session, *, actor: User | None, limit: int = 100, status: str | None = None
) -> list[Payment]:
    """Every payment, newest first (admins only); `status="flagged"` lists refunds to check."""
    require_role(actor, Role.admin)
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInputError(f"Ask for between 1 and {MAX_HISTORY} payments at a time.")
    query = select(Payment)
    if status:
        query = query.where(Payment.status == status)
    return list(
        session.exec(
            query.order_by(col(Payment.created_at).desc(), col(Payment.id).desc()).limit(limit)
        )
    )

"""Admin reports: usage per model and day, top users. Admin-only, checked here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.services.auth import require_role
from app.services.models import Analysis, Payment, Role, User, utcnow


@dataclass(frozen=True)
class ModelDay:
    day: date
    model: str
    credits: int
    calls: int


@dataclass(frozen=True)
class TopUser:
    email: str
    credits: int
    calls: int


def usage_by_model(session: Session, *, actor: User | None, days: int = 30) -> list[ModelDay]:
    require_role(actor, Role.admin)
    since = utcnow() - timedelta(days=max(1, min(days, 366)))
    day = func.date(Analysis.created_at)
    rows = session.exec(
        select(day, Analysis.model, func.sum(Analysis.cost_credits), func.count())
        .where(col(Analysis.created_at) >= since, Analysis.status == "succeeded")
        .group_by(day, Analysis.model)
        .order_by(day)
    ).all()
    return [
        ModelDay(d if isinstance(d, date) else date.fromisoformat(str(d)), m, int(c or 0), int(n))
        for d, m, c, n in rows
    ]


def top_users(
    session: Session, *, actor: User | None, days: int = 30, limit: int = 10
) -> list[TopUser]:
    require_role(actor, Role.admin)
    since = utcnow() - timedelta(days=max(1, min(days, 366)))
    total = func.sum(Analysis.cost_credits)
    rows = session.exec(
        select(User.email, total, func.count())
        .join(User, col(User.id) == col(Analysis.user_id))
        .where(col(Analysis.created_at) >= since, Analysis.status == "succeeded")
        .group_by(User.email)
        .order_by(total.desc())
        .limit(max(1, min(limit, 100)))
    ).all()
    return [TopUser(email, int(c or 0), int(n)) for email, c, n in rows]


@dataclass(frozen=True)
class Revenue:
    cents: int  # money in, minus refunds
    payments: int
    refunds: int


def revenue(session: Session, *, actor: User | None, days: int = 30) -> Revenue:
    """Money through Stripe over the window: purchases and plan invoices less refunds."""
    require_role(actor, Role.admin)
    since = utcnow() - timedelta(days=max(1, min(days, 366)))
    rows = session.exec(
        select(Payment.kind, func.sum(Payment.amount_cents), func.count())
        .where(col(Payment.created_at) >= since, col(Payment.status) != "pending")
        .group_by(Payment.kind)
    ).all()
    cents = payments = refunds = 0
    for kind, total, count in rows:
        if kind == "refund":
            cents -= int(total or 0)
            refunds += int(count)
        else:
            cents += int(total or 0)
            payments += int(count)
    return Revenue(cents=cents, payments=payments, refunds=refunds)


def my_usage_by_model(session: Session, *, user_id: int, days: int = 30) -> list[TopUser]:
    """One person's spend per model (their own data: no role needed). Reuses TopUser's shape
    with the model id in `email`'s place."""
    since = utcnow() - timedelta(days=max(1, min(days, 366)))
    total = func.sum(Analysis.cost_credits)
    rows = session.exec(
        select(Analysis.model, total, func.count())
        .where(
            Analysis.user_id == user_id,
            col(Analysis.created_at) >= since,
            Analysis.status == "succeeded",
        )
        .group_by(Analysis.model)
        .order_by(total.desc())
    ).all()
    return [TopUser(model, int(c or 0), int(n)) for model, c, n in rows]

"""Admin reports: usage per model and day (everyone's or one person's), top users, revenue.

Admin-only, checked here. Every report groups in SQL by the UTC calendar day (`utc_day`), on
SQLite and PostgreSQL alike, over a window of whole days ending today: `days=30` is today and
the 29 days before it. Series come back dense, one row per day with zeros, oldest first, so a
chart has no gaps and two series line up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from app.services.accounts import users
from app.services.accounts.auth import require_role
from app.services.billing import billing
from app.services.billing.billing import PaymentStatus
from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import Analysis, Job, Payment, Role, User, utcnow

MAX_DAYS = 366


class utc_day(FunctionElement[date]):  # noqa: N801 (reads as the SQL function it compiles to)
    """The UTC calendar day of a timestamp column, computed by the database."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite (and MySQL) hold our timestamps as UTC wall-clock values: the date is the day.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgres(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz: date() alone would use the connection's TimeZone, not UTC.
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


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
    user_id: int = 0


@dataclass(frozen=True)
class UsageDay:
    day: date
    credits: dict[str, int] = field(default_factory=dict)  # per model; idle models left out
    calls: int = 0

    @property
    def total(self) -> int:
        return sum(self.credits.values())


@dataclass(frozen=True)
class UsageOverTime:
    """Credits spent per UTC day and model: everyone's, or one person's (`user_id`)."""

    days: list[UsageDay]  # every day of the window, oldest first
    models: list[str]  # most credits first
    user_id: int | None = None
    email: str | None = None

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)

    @property
    def calls(self) -> int:
        return sum(d.calls for d in self.days)


@dataclass(frozen=True)
class Revenue:
    cents: int  # money in, minus refunds
    payments: int
    refunds: int


@dataclass(frozen=True)
class RevenueDay:
    day: date
    paid_cents: int = 0
    refunded_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.paid_cents - self.refunded_cents


# Studio jobs are not model calls; their spend is reported under this name next to the models.
STUDIO_USAGE = "studio image ops"


def window(days: int) -> tuple[list[date], datetime]:
    """The days of a report window, oldest first, and the instant it starts (midnight UTC)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"Ask for between 1 and {MAX_DAYS} days.")
    first = utcnow().date() - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return [first + timedelta(days=i) for i in range(days)], since


def usage_by_model(
    session: Session, *, actor: User | None, days: int = 30, user_id: int | None = None
) -> list[ModelDay]:
    """Succeeded paid calls per UTC day and model (only the days with any), oldest first."""
    require_role(actor, Role.admin)
    _, since = window(days)
    day = utc_day(Analysis.created_at)
    query = select(day, Analysis.model, func.sum(Analysis.cost_credits), func.count()).where(
        col(Analysis.created_at) >= since, Analysis.status == "succeeded"
    )
    if user_id is not None:
        query = query.where(Analysis.user_id == user_id)
    rows = session.exec(query.group_by(day, Analysis.model).order_by(day, Analysis.model)).all()
    found = [ModelDay(_as_date(d), str(m), int(c or 0), int(n)) for d, m, c, n in rows]
    job_day = utc_day(Job.finished_at)
    jobs = select(job_day, func.sum(Job.credits_charged), func.count()).where(
        col(Job.finished_at) >= since, col(Job.credits_charged) > 0
    )
    if user_id is not None:
        jobs = jobs.where(Job.user_id == user_id)
    for d, c, n in session.exec(jobs.group_by(job_day)).all():
        found.append(ModelDay(_as_date(d), STUDIO_USAGE, int(c or 0), int(n)))
    return sorted(found, key=lambda row: (row.day, row.model))


def usage_over_time(
    session: Session, *, actor: User | None, days: int = 30, user_id: int | None = None
) -> UsageOverTime:
    """Everyone's spend per day and model, or one account's; NotFoundError for no such user."""
    require_role(actor, Role.admin)
    email = None
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError("No account with that id.")
        email = user.email
    all_days, _ = window(days)
    credits: dict[date, dict[str, int]] = {d: {} for d in all_days}
    calls = dict.fromkeys(all_days, 0)
    totals: dict[str, int] = {}
    for row in usage_by_model(session, actor=actor, days=days, user_id=user_id):
        if row.day not in credits:  # stamped after midnight UTC began: tomorrow's report
            continue
        credits[row.day][row.model] = row.credits
        calls[row.day] += row.calls
        totals[row.model] = totals.get(row.model, 0) + row.credits
    models = sorted(totals, key=lambda m: (-totals[m], m))
    series = [UsageDay(day=d, credits=credits[d], calls=calls[d]) for d in all_days]
    return UsageOverTime(days=series, models=models, user_id=user_id, email=email)


def top_users(
    session: Session, *, actor: User | None, days: int = 30, limit: int = 10
) -> list[TopUser]:
    require_role(actor, Role.admin)
    _, since = window(days)
    total = func.sum(Analysis.cost_credits)
    limit = max(1, min(limit, 100))
    rows = session.exec(
        select(User.id, User.email, total, func.count())
        .join(User, col(User.id) == col(Analysis.user_id))
        .where(col(Analysis.created_at) >= since, Analysis.status == "succeeded")
        .group_by(col(User.id), User.email)
        .order_by(total.desc(), User.email)
        .limit(limit)
    ).all()
    job_total = func.sum(Job.credits_charged)
    job_rows = session.exec(
        select(User.id, User.email, job_total, func.count())
        .join(User, col(User.id) == col(Job.user_id))
        .where(col(Job.finished_at) >= since, col(Job.credits_charged) > 0)
        .group_by(col(User.id), User.email)
        .order_by(job_total.desc(), User.email)
        .limit(limit)
    ).all()
    # Each query keeps its own top `limit`, so the merged top `limit` is exact.
    merged: dict[int, TopUser] = {}
    for uid, email, c, n in [*rows, *job_rows]:
        key = int(uid or 0)
        seen = merged.get(key)
        credits_, calls = int(c or 0), int(n)
        if seen is not None:
            credits_, calls = credits_ + seen.credits, calls + seen.calls
        merged[key] = TopUser(email, credits_, calls, key)
    return sorted(merged.values(), key=lambda u: (-u.credits, u.email))[:limit]


def revenue(session: Session, *, actor: User | None, days: int = 30) -> Revenue:
    """Money through Stripe over the window: purchases and plan invoices less refunds."""
    require_role(actor, Role.admin)
    _, since = window(days)
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


def revenue_by_day(session: Session, *, actor: User | None, days: int = 30) -> list[RevenueDay]:
    """Money in and refunds per UTC day, every day of the window, oldest first. A payment
    counts on the day its row was made (for a credit pack: when checkout began)."""
    require_role(actor, Role.admin)
    all_days, since = window(days)
    day = utc_day(Payment.created_at)
    refund = col(Payment.kind) == "refund"
    rows = session.exec(
        select(day, refund, func.sum(Payment.amount_cents))
        .where(col(Payment.created_at) >= since, col(Payment.status) != "pending")
        .group_by(day, refund)
    ).all()
    paid: dict[date, int] = {}
    refunded: dict[date, int] = {}
    for d, is_refund, cents in rows:
        target = refunded if is_refund else paid
        target[_as_date(d)] = target.get(_as_date(d), 0) + int(cents or 0)
    return [RevenueDay(d, paid.get(d, 0), refunded.get(d, 0)) for d in all_days]


def my_usage_by_model(session: Session, *, user_id: int, days: int = 30) -> list[TopUser]:
    """One person's spend per model (their own data: no role needed). Reuses TopUser's shape
    with the model id in `email`'s place."""
    _, since = window(days)
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
    found = [TopUser(model, int(c or 0), int(n)) for model, c, n in rows]
    studio = session.exec(
        select(func.sum(Job.credits_charged), func.count()).where(
            Job.user_id == user_id, col(Job.finished_at) >= since, col(Job.credits_charged) > 0
        )
    ).one()
    if studio[1]:
        found.append(TopUser(STUDIO_USAGE, int(studio[0] or 0), int(studio[1])))
    return sorted(found, key=lambda row: -row.credits)


def find_user_id(session: Session, *, actor: User | None, email: str) -> int:
    """The id of the account with this email (admins only), else NotFoundError."""
    return int(users.find_by_email(session, actor=actor, email=email).id or 0)


def paid_just_now(session: Session, *, user_id: int, within_seconds: int = 120) -> bool:
    """Whether the user's latest payment went through in the last couple of minutes: the
    credits page then thanks them at once instead of watching for Stripe's webhook."""
    latest = billing.billing_history(session, user_id=user_id, limit=1)
    return any(
        p.status == PaymentStatus.paid
        and (utcnow() - p.created_at).total_seconds() < within_seconds
        for p in latest
    )


def _as_date(value: Any) -> date:
    # PostgreSQL returns a date; SQLite a date or its ISO text, depending on the driver path.
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))

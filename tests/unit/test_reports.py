"""Admin reports: usage per model and day, per user, top users, revenue; admins only.

The `check_*` functions take any migrated session: tests/integration/test_reports_postgres.py
runs the same checks on PostgreSQL, where grouping by day is different SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import Session

from app.services.accounts import auth
from app.services.billing import reports
from app.services.core.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from app.services.core.models import Analysis, Payment, User

PASSWORD = "a long passphrase here"


def today() -> datetime:
    return datetime.combine(datetime.now(UTC).date(), time(0, 0), tzinfo=UTC)


def people(session: Session) -> tuple[User, User, User]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=PASSWORD)
    ada = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    bob = auth.create_user(session, email="bob@example.com", password=PASSWORD)
    session.commit()
    return admin, ada, bob


def spend(
    session: Session, user: User, model: str, cost: int, when: datetime, status: str = "succeeded"
) -> None:
    session.add(
        Analysis(
            user_id=user.id,
            provider="x",
            model=model,
            status=status,
            cost_credits=cost,
            created_at=when,
        )
    )


def check_usage_and_top_users(session: Session) -> None:
    admin, ada, bob = people(session)
    now = datetime.now(UTC)
    for user, model, cost, status in [
        (ada, "a/model", 3, "succeeded"),
        (ada, "b/model", 2, "succeeded"),
        (bob, "a/model", 1, "succeeded"),
        (bob, "a/model", 9, "failed"),
    ]:
        spend(session, user, model, cost, now, status)
    session.commit()
    usage = reports.usage_by_model(session, actor=admin)
    assert {(u.model, u.credits, u.calls) for u in usage} == {("a/model", 4, 2), ("b/model", 2, 1)}
    top = reports.top_users(session, actor=admin)
    assert [(t.email, t.credits, t.user_id) for t in top] == [
        ("ada@example.com", 5, ada.id),
        ("bob@example.com", 1, bob.id),
    ]
    with pytest.raises(PermissionDeniedError):
        reports.top_users(session, actor=ada)
    assert ada.id is not None
    mine = reports.my_usage_by_model(session, user_id=ada.id)
    assert [(m.email, m.credits, m.calls) for m in mine] == [("a/model", 3, 1), ("b/model", 2, 1)]


def check_usage_over_time(session: Session) -> None:
    """Every day of the window, grouped by the UTC day, per model; everyone's or one user's."""
    admin, ada, bob = people(session)
    midnight = today()
    spend(session, ada, "a/model", 3, midnight + timedelta(minutes=1))
    spend(session, ada, "b/model", 2, midnight + timedelta(minutes=2))
    spend(session, bob, "a/model", 5, midnight - timedelta(minutes=1))  # yesterday, 23:59 UTC
    spend(session, bob, "a/model", 7, midnight - timedelta(days=6) + timedelta(hours=1))
    spend(session, bob, "a/model", 11, midnight - timedelta(days=6, minutes=1))  # a week ago
    spend(session, bob, "a/model", 100, midnight - timedelta(days=8))
    spend(session, ada, "a/model", 50, midnight, status="failed")
    session.commit()

    week = reports.usage_over_time(session, actor=admin, days=7)
    days = [d.day for d in week.days]
    assert len(days) == 7
    assert days[-1] == midnight.date()
    assert days == sorted(days)
    assert week.models == ["a/model", "b/model"]  # most credits first
    spent = {d.day: d.credits for d in week.days if d.credits}
    assert spent == {
        midnight.date(): {"a/model": 3, "b/model": 2},
        (midnight - timedelta(days=1)).date(): {"a/model": 5},
        (midnight - timedelta(days=6)).date(): {"a/model": 7},
    }
    assert (week.total, week.calls) == (17, 4)
    assert week.user_id is None

    assert ada.id is not None and bob.id is not None
    hers = reports.usage_over_time(session, actor=admin, days=7, user_id=ada.id)
    assert (hers.email, hers.total, hers.models) == ("ada@example.com", 5, ["a/model", "b/model"])
    assert hers.days[-1].credits == {"a/model": 3, "b/model": 2}
    month = reports.usage_over_time(session, actor=admin, days=30, user_id=bob.id)
    assert (len(month.days), month.total) == (30, 123)

    with pytest.raises(PermissionDeniedError):
        reports.usage_over_time(session, actor=ada, user_id=ada.id)
    with pytest.raises(AuthenticationError):
        reports.usage_over_time(session, actor=None)
    with pytest.raises(NotFoundError):
        reports.usage_over_time(session, actor=admin, user_id=999_999)
    for bad in (0, -3, reports.MAX_DAYS + 1):
        with pytest.raises(InvalidInputError):
            reports.usage_over_time(session, actor=admin, days=bad)
    assert reports.find_user_id(session, actor=admin, email="  ADA@example.com ") == ada.id
    with pytest.raises(NotFoundError):
        reports.find_user_id(session, actor=admin, email="nobody@example.com")
    with pytest.raises(PermissionDeniedError):
        reports.find_user_id(session, actor=bob, email="ada@example.com")


def check_revenue(session: Session) -> None:
    admin, ada, _ = people(session)
    assert ada.id is not None
    midnight = today()
    for cents, kind, status, when in [
        (2000, "purchase", "paid", midnight + timedelta(minutes=5)),
        (500, "refund", "refunded", midnight + timedelta(minutes=6)),
        (900, "subscription", "paid", midnight - timedelta(minutes=1)),
        (9999, "purchase", "pending", midnight),
        (4000, "purchase", "paid", midnight - timedelta(days=40)),
    ]:
        session.add(
            Payment(
                user_id=ada.id,
                amount_cents=cents,
                credits=1,
                status=status,
                kind=kind,
                created_at=when,
            )
        )
    session.commit()
    money = reports.revenue(session, actor=admin)
    assert (money.cents, money.payments, money.refunds) == (2400, 2, 1)
    per_day = reports.revenue_by_day(session, actor=admin, days=30)
    assert len(per_day) == 30
    assert (per_day[-1].paid_cents, per_day[-1].refunded_cents, per_day[-1].net_cents) == (
        2000,
        500,
        1500,
    )
    assert (per_day[-2].day, per_day[-2].paid_cents) == ((midnight - timedelta(days=1)).date(), 900)
    assert sum(d.net_cents for d in per_day) == money.cents
    with pytest.raises(PermissionDeniedError):
        reports.revenue(session, actor=ada)
    with pytest.raises(PermissionDeniedError):
        reports.revenue_by_day(session, actor=ada)


def test_usage_and_top_users(session: Session) -> None:
    check_usage_and_top_users(session)


def test_usage_over_time_per_model_and_per_user(session: Session) -> None:
    check_usage_over_time(session)


def test_revenue_counts_payments_less_refunds_per_day(session: Session) -> None:
    check_revenue(session)


def test_utc_day_is_plain_date_on_sqlite(session: Session) -> None:
    from sqlalchemy.dialects import sqlite

    sql = str(reports.utc_day(Analysis.created_at).compile(dialect=sqlite.dialect()))
    assert sql == "date(analyses.created_at)"


def test_studio_jobs_count_as_usage_next_to_models(session: Session) -> None:
    """Studio jobs charge credits without an Analysis row: their spend still shows, as its own
    series, in the admin charts, the top users and the person's own usage."""
    from app.services.core.models import Job

    admin, ada, bob = people(session)
    now = datetime.now(UTC)
    spend(session, bob, "a/model", 3, now)
    session.add(
        Job(user_id=ada.id, kind="imageops", status="done", credits_charged=5, finished_at=now)
    )
    # Unfinished and free jobs are not usage.
    session.add(Job(user_id=ada.id, kind="imageops", status="running", credits_charged=None))
    session.add(
        Job(user_id=bob.id, kind="imageops", status="done", credits_charged=0, finished_at=now)
    )
    session.commit()

    rows = reports.usage_by_model(session, actor=admin, days=7)
    assert {(r.model, r.credits, r.calls) for r in rows} == {
        ("a/model", 3, 1),
        (reports.STUDIO_USAGE, 5, 1),
    }
    top = reports.top_users(session, actor=admin, days=7)
    assert [(u.email, u.credits) for u in top] == [("ada@example.com", 5), ("bob@example.com", 3)]
    mine = reports.my_usage_by_model(session, user_id=ada.id or 0, days=7)
    assert [(m.email, m.credits, m.calls) for m in mine] == [(reports.STUDIO_USAGE, 5, 1)]
    assert reports.usage_over_time(session, actor=admin, days=7, user_id=ada.id).models == [
        reports.STUDIO_USAGE
    ]

"""The admin reports on PostgreSQL: the same checks as on SQLite (tests/unit/test_reports.py).

Timestamps are `timestamptz` there, and `date()` of one follows the connection's TimeZone: the
reports group by the UTC day whatever that setting is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.services.billing import reports
from app.services.core.models import Analysis
from tests.unit.test_reports import (
    check_revenue,
    check_usage_and_top_users,
    check_usage_over_time,
    people,
    spend,
    today,
)


def test_usage_and_top_users(pg_session: Session) -> None:
    check_usage_and_top_users(pg_session)


def test_usage_over_time(pg_session: Session) -> None:
    check_usage_over_time(pg_session)


def test_revenue(pg_session: Session) -> None:
    check_revenue(pg_session)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles"])
def test_days_are_utc_days_whatever_the_server_time_zone(pg_session: Session, zone: str) -> None:
    admin, ada, _ = people(pg_session)
    midnight = today()
    spend(pg_session, ada, "a/model", 3, midnight + timedelta(minutes=1))
    spend(pg_session, ada, "a/model", 5, midnight - timedelta(minutes=1))
    pg_session.commit()
    # SET LOCAL lasts until the transaction ends: the report below runs inside it.
    pg_session.exec(text(f"SET LOCAL TIME ZONE '{zone}'"))  # type: ignore[call-overload]
    shown = pg_session.exec(text("SHOW TIME ZONE")).one()  # type: ignore[call-overload]
    assert shown[0] == zone
    usage = reports.usage_over_time(pg_session, actor=admin, days=2)
    assert [d.credits for d in usage.days] == [{"a/model": 5}, {"a/model": 3}]
    assert usage.days[-1].day == datetime.now(UTC).date()
    pg_session.rollback()


def test_utc_day_sql_on_postgres() -> None:
    from sqlalchemy.dialects import postgresql

    sql = str(reports.utc_day(Analysis.created_at).compile(dialect=postgresql.dialect()))
    assert sql == "CAST((analyses.created_at) AT TIME ZONE 'UTC' AS DATE)"

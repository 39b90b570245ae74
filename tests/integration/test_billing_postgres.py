"""Stripe subscription events out of order, on PostgreSQL: racing deliveries about one
subscription take turns on its row, and the newest state wins whatever the arrival order."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.accounts import auth
from app.services.core.models import User
from app.settings import Settings, get_settings, reset_settings
from tests.integration.test_billing import (
    SECRET_KEY,
    T0,
    WEBHOOK_SECRET,
    check_racing_events_leave_the_newest_state,
    deliver,
    plan_of,
    sub_event,
)


@pytest.fixture
def pg_stripe(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    reset_settings()
    return get_settings()


@pytest.fixture
def ada(pg_session: Session) -> User:
    user = auth.create_user(pg_session, email="ada@example.com", password=None)
    pg_session.commit()
    return user


def test_an_old_active_after_canceled_is_stale(
    pg_session: Session, pg_stripe: Settings, ada: User
) -> None:
    canceled = sub_event(ada, "canceled", at=T0 + 60, event_type="customer.subscription.deleted")
    assert deliver(pg_session, canceled) == "applied"
    assert deliver(pg_session, sub_event(ada, "active", at=T0)) == "stale"
    assert plan_of(pg_session, ada) == ("free", None)


@pytest.mark.parametrize("attempt", range(5))  # a race: a few rounds, each on a fresh database
def test_racing_deliveries_leave_the_newest_state(
    pg_session: Session, pg_url: str, pg_stripe: Settings, ada: User, attempt: int
) -> None:
    check_racing_events_leave_the_newest_state(pg_session, pg_url, ada)

"""A new account gets its plan's credits at sign-up, once, through the monthly grant's entry."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlmodel import Session, col, select

from app.services.accounts import auth, signup
from app.services.billing import credits, pricing
from app.services.core.errors import ConflictError, WeakPasswordError
from app.services.core.models import CreditEntry, User, utcnow
from app.services.worker.maintenance import grant_plan_credits

PASSWORD = "a long and happy passphrase"
FREE = pricing.PLANS["free"].monthly_credits


def _entries(session: Session, user_id: int) -> list[CreditEntry]:
    session.expire_all()
    return list(session.exec(select(CreditEntry).where(CreditEntry.user_id == user_id)).all())


def test_sign_up_grants_the_free_plans_credits_and_opens_a_session(session: Session) -> None:
    signed = signup.sign_up(session, email="New@Example.com", password=PASSWORD, display_name="N")
    assert signed.user.id is not None
    assert auth.user_for_token(session, signed.token) is not None
    assert credits.balance(session, user_id=signed.user.id) == FREE
    [entry] = _entries(session, signed.user.id)
    assert entry.kind == credits.EntryKind.plan
    # The very key the monthly maintenance run writes for this user, plan and month.
    key = pricing.monthly_grant_key(user_id=signed.user.id, plan="free", now=utcnow())
    assert entry.idempotency_key.endswith(key)


def test_a_second_grant_and_the_months_maintenance_run_add_nothing(session: Session) -> None:
    signed = signup.sign_up(session, email="once@example.com", password=PASSWORD)
    user_id = signed.user.id
    assert user_id is not None
    signup.grant_signup_credits(session, user=signed.user)
    assert grant_plan_credits() >= 1  # the maintenance run finds this month's grant already there
    assert credits.balance(session, user_id=user_id) == FREE
    assert len(_entries(session, user_id)) == 1


def test_next_months_maintenance_run_grants_the_next_month(session: Session) -> None:
    signed = signup.sign_up(session, email="later@example.com", password=PASSWORD)
    assert signed.user.id is not None
    next_month = (utcnow().astimezone(UTC).replace(day=1) + timedelta(days=32)).replace(day=1)
    user = session.get(User, signed.user.id)
    assert user is not None
    pricing.grant_monthly_credits(session, user=user, now=next_month)
    assert credits.balance(session, user_id=signed.user.id) == 2 * FREE


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("weak@example.com", "short", WeakPasswordError),
        ("taken@example.com", PASSWORD, ConflictError),
    ],
)
def test_a_refused_sign_up_grants_nothing(
    session: Session, email: str, password: str, error: type[Exception]
) -> None:
    auth.create_user(session, email="taken@example.com", password=PASSWORD)
    session.commit()
    with pytest.raises(error):
        signup.sign_up(session, email=email, password=password)
    session.rollback()
    assert session.exec(select(CreditEntry)).all() == []
    emails = session.exec(select(User.email).order_by(col(User.id))).all()
    assert emails == ["taken@example.com"]


def test_accounts_made_by_admins_are_not_sign_ups(session: Session) -> None:
    user, created = auth.ensure_admin(session, email="root@example.com", password=PASSWORD)
    session.commit()
    assert created and user.id is not None
    assert credits.balance(session, user_id=user.id) == 0

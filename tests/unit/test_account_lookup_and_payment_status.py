"""Service rules the admin and credits pages used to spell out themselves: finding an account by
email (admins only) and "your payment just went through" (read from PaymentStatus)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.services.accounts import auth, users
from app.services.billing import reports
from app.services.billing.billing import PaymentStatus
from app.services.core.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from app.services.core.models import Payment, User, utcnow

PASSWORD = "a long passphrase here"


def people(session: Session) -> tuple[User, User]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=PASSWORD)
    ada = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    return admin, ada


def test_an_admin_finds_an_account_by_email_however_it_is_typed(session: Session) -> None:
    admin, ada = people(session)
    assert users.find_by_email(session, actor=admin, email="  ADA@Example.COM ").id == ada.id
    for nasty in ("", "   ", "nobody@example.com", "ada@example.com%", "%", "' OR 1=1 --"):
        with pytest.raises(NotFoundError, match="No account with that email"):
            users.find_by_email(session, actor=admin, email=nasty)


def test_only_admins_may_look_accounts_up(session: Session) -> None:
    _, ada = people(session)
    with pytest.raises(PermissionDeniedError):
        users.find_by_email(session, actor=ada, email="boss@example.com")
    with pytest.raises(AuthenticationError):
        users.find_by_email(session, actor=None, email="boss@example.com")


def pay(session: Session, user: User, status: str, seconds_ago: int) -> None:
    session.add(
        Payment(
            user_id=user.id,
            amount_cents=500,
            credits=100,
            status=status,
            kind="payment",
            created_at=utcnow() - timedelta(seconds=seconds_ago),
        )
    )
    session.commit()


def test_a_payment_paid_moments_ago_counts_as_just_paid(session: Session) -> None:
    _, ada = people(session)
    assert ada.id is not None
    assert not reports.paid_just_now(session, user_id=ada.id)  # no payment at all
    pay(session, ada, PaymentStatus.paid, seconds_ago=300)
    assert not reports.paid_just_now(session, user_id=ada.id)  # too long ago
    pay(session, ada, PaymentStatus.paid, seconds_ago=5)
    assert reports.paid_just_now(session, user_id=ada.id)


@pytest.mark.parametrize(
    "status",
    [
        PaymentStatus.pending,
        PaymentStatus.refunded,
        PaymentStatus.partially_refunded,
        PaymentStatus.flagged,
        "succeeded",  # Stripe's words, never stored on a Payment: they don't count
        "complete",
    ],
)
def test_only_a_paid_latest_payment_counts(session: Session, status: str) -> None:
    _, ada = people(session)
    assert ada.id is not None
    pay(session, ada, PaymentStatus.paid, seconds_ago=30)
    pay(session, ada, status, seconds_ago=1)
    assert not reports.paid_just_now(session, user_id=ada.id)

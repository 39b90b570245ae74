"""Admin reports: usage per model and top users, admins only."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services import auth, reports
from app.services.errors import PermissionDeniedError
from app.services.models import Analysis


def test_usage_and_top_users(session: Session) -> None:
    admin, _ = auth.ensure_admin(
        session, email="boss@example.com", password="a long passphrase here"
    )
    ada = auth.create_user(session, email="ada@example.com", password="a long passphrase here")
    bob = auth.create_user(session, email="bob@example.com", password="a long passphrase here")
    for user, model, cost, status in [
        (ada, "a/model", 3, "succeeded"),
        (ada, "b/model", 2, "succeeded"),
        (bob, "a/model", 1, "succeeded"),
        (bob, "a/model", 9, "failed"),
    ]:
        session.add(
            Analysis(user_id=user.id, provider="x", model=model, status=status, cost_credits=cost)
        )
    session.commit()
    usage = reports.usage_by_model(session, actor=admin)
    assert {(u.model, u.credits, u.calls) for u in usage} == {("a/model", 4, 2), ("b/model", 2, 1)}
    top = reports.top_users(session, actor=admin)
    assert [(t.email, t.credits) for t in top] == [("ada@example.com", 5), ("bob@example.com", 1)]
    with pytest.raises(PermissionDeniedError):
        reports.top_users(session, actor=ada)
    assert ada.id is not None
    mine = reports.my_usage_by_model(session, user_id=ada.id)
    assert [(m.email, m.credits, m.calls) for m in mine] == [("a/model", 3, 1), ("b/model", 2, 1)]


def test_revenue_counts_payments_less_refunds(session: Session) -> None:
    from app.services.models import Payment

    admin, _ = auth.ensure_admin(
        session, email="boss@example.com", password="a long passphrase here"
    )
    ada = auth.create_user(session, email="ada@example.com", password="a long passphrase here")
    assert ada.id is not None
    session.add(
        Payment(user_id=ada.id, amount_cents=2000, credits=500, status="paid", kind="purchase")
    )
    session.add(
        Payment(user_id=ada.id, amount_cents=500, credits=100, status="paid", kind="refund")
    )
    session.add(
        Payment(user_id=ada.id, amount_cents=9999, credits=1, status="pending", kind="purchase")
    )
    session.commit()
    money = reports.revenue(session, actor=admin)
    assert (money.cents, money.payments, money.refunds) == (1500, 1, 1)
    with pytest.raises(PermissionDeniedError):
        reports.revenue(session, actor=ada)

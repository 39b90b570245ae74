"""Prices per model and per operation (admin-edited), plans, and the monthly plan grant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.analyzer.providers import load_builtin_models
from app.services.billing import credits, pricing
from app.services.core.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from app.services.core.models import CreditEntry, User
from app.settings import Settings

JAN = datetime(2026, 1, 15, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def admin(session: Session) -> User:
    user, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
    session.commit()
    return user


@pytest.fixture
def ada(session: Session) -> User:
    user = auth.create_user(session, email="ada@example.com", password=None)
    session.commit()
    return user


@pytest.fixture
def models(isolated_settings: Settings) -> None:
    load_builtin_models(isolated_settings)


def test_defaults_come_from_the_model_registry(session: Session, models: None) -> None:
    prices = {row.key: row for row in pricing.list_prices(session)}
    assert prices["model:google/gemini-2.5-flash"].credits == 3
    assert prices["model:openai/gpt-4o-mini"].credits == 2
    assert prices["op:generation"].credits == pricing.OPERATION_DEFAULTS["generation"]
    assert not any(row.custom for row in prices.values())
    assert pricing.price_for_model(session, model_id="google/gemini-2.5-flash", default=3) == 3


def test_an_admin_price_wins_over_the_default(session: Session, admin: User, models: None) -> None:
    row = pricing.set_price(session, actor=admin, key="model:gemini", credits=5)
    session.commit()
    assert row.key == "model:google/gemini-2.5-flash"  # aliases resolve to the model id
    assert pricing.price_for_model(session, model_id="google/gemini-2.5-flash", default=3) == 5
    listed = {r.key: r for r in pricing.list_prices(session)}["model:google/gemini-2.5-flash"]
    assert (listed.credits, listed.default, listed.custom, listed.updated_by) == (
        5,
        3,
        True,
        admin.id,
    )
    pricing.set_price(session, actor=admin, key="op:generation", credits=0)
    assert pricing.price_for_operation(session, operation="generation") == 0


def test_only_admins_set_prices(session: Session, ada: User, models: None) -> None:
    with pytest.raises(PermissionDeniedError):
        pricing.set_price(session, actor=ada, key="model:gemini", credits=0)
    with pytest.raises(AuthenticationError):
        pricing.set_price(session, actor=None, key="model:gemini", credits=0)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model:gemini", -1),
        ("model:gemini", pricing.MAX_PRICE + 1),
        ("model:gemini", True),
        ("model:no-such-model", 1),
        ("op:teleport", 1),
        ("gemini", 1),
        ("", 1),
    ],
)
def test_bad_prices_are_refused(
    session: Session, admin: User, models: None, key: str, value: int
) -> None:
    with pytest.raises(InvalidInputError):
        pricing.set_price(session, actor=admin, key=key, credits=value)


def test_seeding_writes_defaults_once_and_keeps_admin_prices(
    session: Session, admin: User, models: None
) -> None:
    pricing.set_price(session, actor=admin, key="model:gpt-4o-mini", credits=9)
    added = pricing.seed_prices(session)
    session.commit()
    assert added == len(pricing.default_prices()) - 1
    assert pricing.seed_prices(session) == 0
    assert pricing.price_for_model(session, model_id="openai/gpt-4o-mini", default=2) == 9


def test_plan_limits(ada: User) -> None:
    assert pricing.plan_limits(ada) == pricing.PLANS["free"]
    ada.plan = "pro"
    assert pricing.plan_limits(ada).max_batch > pricing.PLANS["free"].max_batch
    ada.plan = "platinum"  # unknown plans get the free limits, never more
    assert pricing.plan_limits(ada) == pricing.PLANS["free"]


def test_monthly_grant_is_once_per_user_plan_and_month(session: Session, ada: User) -> None:
    assert ada.id is not None
    free = pricing.PLANS["free"].monthly_credits
    first = pricing.grant_monthly_credits(session, user=ada, now=JAN)
    again = pricing.grant_monthly_credits(session, user=ada, now=JAN.replace(day=28))
    assert first is not None and again is not None and first.id == again.id
    assert credits.balance(session, user_id=ada.id) == free
    pricing.grant_monthly_credits(session, user=ada, now=FEB)
    assert credits.balance(session, user_id=ada.id) == 2 * free
    # Upgrading mid-month adds the Pro grant for that month, once.
    pricing.grant_monthly_credits(session, user=ada, now=FEB, plan="pro")
    pricing.grant_monthly_credits(session, user=ada, now=FEB, plan="pro")
    pro = pricing.PLANS["pro"].monthly_credits
    assert credits.balance(session, user_id=ada.id) == 2 * free + pro
    kinds = {e.kind for e in session.exec(select(CreditEntry).where(CreditEntry.user_id == ada.id))}
    assert kinds == {"plan"}

"""What the landing and /pricing pages sell comes from the plan, pack and price definitions."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.analyzer.providers.setup import ensure_models
from app.services.billing import billing, price_list, pricing
from app.services.core.models import Role
from app.settings import reset_settings
from tests.utils.prompt_factories import make_user


def test_plans_and_packs_are_the_ones_billing_sells(session: Session) -> None:
    ensure_models()
    listed = price_list.price_list(session)
    assert [p.id for p in listed.plans] == ["free", "pro"]
    assert listed.plans[0].price == "$0 / month" and not listed.plans[0].paid
    pro = next(p for p in listed.plans if p.id == "pro")
    assert pro.price == price_list.money(pricing.PLANS["pro"].price_cents) + " / month"
    assert pro.monthly_credits == pricing.PLANS["pro"].monthly_credits and pro.paid
    assert f"Studio batches of up to {pricing.PLANS['pro'].max_batch} images" in pro.perks
    assert [(k.id, k.credits) for k in listed.packs] == [
        (p.id, p.credits) for p in sorted(billing.PACKS.values(), key=lambda p: p.credits)
    ]
    assert listed.packs[0].price == price_list.money(billing.PACKS["small"].amount_cents)
    assert not listed.purchases_enabled  # no Stripe keys in tests


def test_action_prices_follow_the_admins_price_table(session: Session) -> None:
    ensure_models()
    admin = make_user(session, "boss", role=Role.admin)
    pricing.set_price(session, actor=admin, key="op:studio_ocr", credits=9)
    pricing.set_price(session, actor=admin, key="model:local/jsoncraft-vision", credits=1)
    session.commit()
    actions = {a.label: a.cost for a in price_list.action_prices(session)}
    assert actions["Studio: text recognition (per image)"] == "9 credits"
    assert actions["Offline analyzer (per analysis)"] == "1 credit"
    assert actions["Studio: resize, convert, compress, filters (per image)"] == "Free"
    assert not any("generation" in label for label in actions)  # not sold until it exists


def test_purchases_are_on_only_with_both_stripe_keys(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    reset_settings()
    assert not price_list.price_list(session).purchases_enabled
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_x")
    reset_settings()
    assert price_list.price_list(session).purchases_enabled


@pytest.mark.parametrize(("cents", "text"), [(0, "$0"), (500, "$5"), (1250, "$12.50")])
def test_money(cents: int, text: str) -> None:
    assert price_list.money(cents) == text

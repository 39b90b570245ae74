"""The /admin business metrics on a hand-countable business (tests/utils/business_rows.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.accounts import auth
from app.services.billing.business import business_metrics
from app.services.core.errors import PermissionDeniedError
from app.services.core.models import utcnow
from tests.utils.business_rows import EXPECTED, seed_business


def check_expected(session: Session) -> None:
    now = utcnow()
    admin = seed_business(session, now=now)
    found = business_metrics(session, actor=admin, days=30, now=now)
    assert found.mrr_cents == EXPECTED["mrr_cents"]
    assert found.pro_subscriptions == EXPECTED["pro_subscriptions"]
    assert (found.conversion.part, found.conversion.whole) == EXPECTED["conversion"]
    assert found.conversion.percent == pytest.approx(400 / 6)
    recent = found.recent_conversion
    assert (recent.part, recent.whole) == EXPECTED["recent_conversion"]
    for got, want in (
        (found.first_analysis, EXPECTED["first_analysis"]),
        (found.first_generation, EXPECTED["first_generation"]),
    ):
        assert (got.median, got.reached, got.accounts) == want
    lora = found.lora_completion
    assert (lora.part, lora.whole) == EXPECTED["lora_completion"] and lora.percent == 50
    assert (
        found.generations_mean,
        found.generations_median,
        found.active_users,
    ) == EXPECTED["generations"]
    assert found.generations_histogram == EXPECTED["histogram"]


def test_the_figures_of_a_small_business(session: Session) -> None:
    check_expected(session)


def test_an_empty_business_has_no_figures_yet(session: Session) -> None:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
    session.commit()
    found = business_metrics(session, actor=admin)
    assert (found.mrr_cents, found.pro_subscriptions) == (0, 0)
    assert found.conversion.percent is None and found.lora_completion.percent is None
    assert found.first_analysis.median is None and found.first_generation.reached == 0
    assert (found.generations_mean, found.generations_median, found.active_users) == (0, 0, 0)


def test_only_admins_see_them(session: Session) -> None:
    ada = auth.create_user(session, email="ada@example.com", password=None)
    session.commit()
    with pytest.raises(PermissionDeniedError):
        business_metrics(session, actor=ada)

"""An admin reads the business figures on /admin: MRR, Pro subscriptions, conversion, time to
first analysis and generation, LoRA completion, generations per user (with its chart)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_db(app_server: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Services in this process use the running app's database."""
    from app.settings import reset_settings

    monkeypatch.setenv("DATA_DIR", str(app_server.data_dir))
    reset_settings()
    yield
    reset_settings()


def figures_now():  # type: ignore[no-untyped-def]
    from app.services.accounts import auth
    from app.services.billing.business import business_metrics
    from app.services.core.db import session_scope

    with session_scope() as session:
        admin, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
        return business_metrics(session, actor=admin)


def test_an_admin_sees_the_business_figures(
    page: Page, app_server: RunningApp, app_db: None
) -> None:
    from app.services.core.db import session_scope
    from app.services.core.models import utcnow
    from tests.utils.business_rows import seed_business

    # Other tests share this app's database: the figures are checked as what the hand-counted
    # business (tests/utils/business_rows.py) adds to what was there.
    before = figures_now()
    with session_scope() as session:
        seed_business(session, now=utcnow(), tag=uuid.uuid4().hex[:8])
    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")

    page.goto("/login?next=/admin")
    sign_in(page, admin_email)
    expect(page.get_by_role("heading", name="Business")).to_be_visible()
    mrr = page.get_by_role("group", name="MRR", exact=True)
    expect(mrr).to_contain_text(f"${(before.mrr_cents + 2400) / 100:,.2f}")
    expect(page.get_by_role("group", name="Active Pro subscriptions")).to_contain_text(
        str(before.pro_subscriptions + 2)
    )
    lora = before.lora_completion
    expect(page.get_by_role("group", name="LoRA completion")).to_contain_text(
        f"{lora.part + 3} of {lora.whole + 6} finished trainings"
    )
    for label in (
        "Free → Pro",
        "Free → Pro, last 30 days",
        "Time to first analysis",
        "Time to first generation",
        "Generations per user",
    ):
        card = page.get_by_role("group", name=label, exact=True)
        expect(card).to_contain_text(re.compile(r"\d"))
    expect(page.get_by_role("group", name="Time to first analysis")).to_contain_text("new accounts")
    chart = page.get_by_label("Generations per active account")
    expect(chart.locator(".recharts-bar-rectangle")).not_to_have_count(0)

    business = page.get_by_role("heading", name="Business").locator("..")
    for mode in ("light", "dark", "narrow"):
        if mode == "dark":
            page.emulate_media(color_scheme="dark")
            expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
        if mode == "narrow":
            page.set_viewport_size({"width": 390, "height": 844})
            expect(mrr).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        business.screenshot(path=str(SCREENSHOTS / f"admin-business-{mode}.png"))
    shot(page, "admin-business-page-narrow-dark")

"""A person switches a kind of email off on /account, and opens an email's unsubscribe link."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import new_email, sign_up

pytestmark = pytest.mark.browser


@pytest.fixture
def app_db(app_server: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Services in this process use the running app's database and its SECRET_KEY (tokens
    minted here must verify there)."""
    from app.settings import reset_settings

    monkeypatch.setenv("DATA_DIR", str(app_server.data_dir))
    monkeypatch.setenv("APP_ENV", app_server.env["APP_ENV"])
    if "SECRET_KEY" in app_server.env:
        monkeypatch.setenv("SECRET_KEY", app_server.env["SECRET_KEY"])
    else:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    reset_settings()
    yield
    reset_settings()


def _opted_out(email: str) -> list[str]:
    from sqlmodel import select

    from app.services.core.db import session_scope
    from app.services.core.models import User

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        return list(user.email_opt_out)


def _token(email: str, kind: str) -> str:
    from sqlmodel import select

    from app.services.core.db import session_scope
    from app.services.core.models import User
    from app.services.notify.tokens import unsubscribe_token

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.id is not None
        return unsubscribe_token(user_id=user.id, kind=kind)


@pytest.mark.usefixtures("app_db")
def test_a_switched_off_email_stays_off_after_a_reload(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_role("heading", name="Email notifications")).to_be_visible()
    low = page.get_by_role("switch", name="Email me when my credits run low")
    receipts = page.get_by_role("switch", name="Email me when a payment is received (receipt)")
    expect(low).to_be_checked()
    expect(receipts).to_be_checked()
    low.click()
    expect(page.get_by_text("Emails when my credits run low: off.")).to_be_visible()
    expect(low).not_to_be_checked()

    page.reload()
    expect(page.get_by_role("heading", name="Email notifications")).to_be_visible()
    expect(page.get_by_role("switch", name="Email me when my credits run low")).not_to_be_checked()
    expect(receipts).to_be_checked()
    assert _opted_out(email) == ["low_credits"]
    shot(page, "account-email-preferences")

    page.get_by_role("button", name="Toggle dark mode").click()
    page.set_viewport_size({"width": 390, "height": 860})
    expect(page.get_by_role("switch", name="Email me when my credits run low")).to_be_visible()
    shot(page, "account-email-preferences-narrow-dark")


@pytest.mark.usefixtures("app_db")
def test_an_unsubscribe_link_says_what_it_switched_off_and_can_undo_it(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    token = _token(email, "payment_receipt")

    page.goto(f"/unsubscribe?token={token}")
    expect(
        page.get_by_text("You will no longer get emails when a payment is received (receipt).")
    ).to_be_visible()
    assert _opted_out(email) == ["payment_receipt"]
    shot(page, "unsubscribe-done")

    page.get_by_role("button", name="Switch these emails back on").click()
    expect(
        page.get_by_text("You will get emails again when a payment is received (receipt).")
    ).to_be_visible()
    assert _opted_out(email) == []

    page.get_by_role("link", name="Choose all your emails").click()
    expect(page.get_by_role("heading", name="Email notifications")).to_be_visible()
    expect(
        page.get_by_role("switch", name="Email me when a payment is received (receipt)")
    ).to_be_checked()


def test_a_damaged_unsubscribe_link_gets_a_clear_message(page: Page) -> None:
    page.goto("/unsubscribe?token=eyJhbGciOiJIUzI1NiJ9.forged.signature")
    expect(page.get_by_role("alert")).to_contain_text("This unsubscribe link is not valid")
    expect(page.get_by_role("link", name="Choose your emails on your account page")).to_be_visible()
    shot(page, "unsubscribe-invalid")

"""A person signs up, signs in, visits every page, toggles dark mode and signs out."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleWatch, OidcMock, RunningApp, shot

pytestmark = pytest.mark.browser
PASSWORD = "a long and happy passphrase"
_counter = itertools.count()


def new_email() -> str:
    return f"person{next(_counter)}-{id(object())}@example.com"


def sign_up(page: Page, email: str, password: str = PASSWORD, name: str = "Robin") -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    page.get_by_role("button", name="Create account").click()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_up_visit_every_page_dark_mode_and_sign_out(
    page: Page, app_server: RunningApp, console: ConsoleWatch
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(
        page.get_by_role("heading", name="Turn an image into a JSON prompt", exact=True)
    ).to_be_visible()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    expect(page.get_by_text("Your analyses appear here.")).to_be_visible()
    shot(page, "home-empty")

    page.get_by_role("link", name="Gallery").first.click()
    expect(page.get_by_role("heading", name="Gallery", exact=True)).to_be_visible()
    cards = page.locator(".prompt-card")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 12
    shot(page, "gallery")

    page.goto("/account")
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    shot(page, "account")

    console.allow_404(f"{app_server.url}/no-such-page")
    page.goto("/no-such-page")
    expect(page.get_by_text("Page not found")).to_be_visible()
    shot(page, "not-found")

    page.goto("/gallery")
    html = page.locator("html")
    was_dark = "dark" in (html.get_attribute("class") or "")
    page.get_by_role("button", name="Toggle dark mode").click()
    expect(html).to_have_class(
        re.compile(r"\bdark\b") if not was_dark else re.compile(r"\blight\b")
    )
    page.reload()
    expect(page.get_by_role("heading", name="Gallery", exact=True)).to_be_visible()
    expect(html).to_have_class(
        re.compile(r"\bdark\b") if not was_dark else re.compile(r"\blight\b")
    )
    shot(page, "gallery-toggled-theme")

    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()

    sign_in(page, email)
    expect(
        page.get_by_role("heading", name="Turn an image into a JSON prompt", exact=True)
    ).to_be_visible()


def test_protected_page_redirects_to_login_and_back(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.context.clear_cookies()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/account"))
    shot(page, "login")
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/account/?$"))
    expect(page.get_by_text(email)).to_be_visible()


def test_wrong_password_gets_one_message_that_reveals_nothing(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.context.clear_cookies()
    page.goto("/login")
    sign_in(page, email, "definitely the wrong one")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(re.compile("don't match an account"))
    first = alert.inner_text()
    page.goto("/login")
    sign_in(page, "nobody-at-all@example.com", "definitely the wrong one")
    expect(page.get_by_role("alert")).to_have_text(first)


def test_sign_up_refuses_duplicate_email_weak_and_mismatched_passwords(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.context.clear_cookies()

    sign_up(page, email)
    expect(page.get_by_role("alert")).to_contain_text("already exists")

    sign_up(page, new_email(), password="short")
    expect(page.get_by_role("alert")).to_contain_text("at least 10 characters")

    sign_up(page, new_email(), password="password123")
    expect(page.get_by_role("alert")).to_contain_text("too easy to guess")

    page.goto("/signup")
    page.get_by_label("Name").fill("Robin")
    page.get_by_label("Email").fill(new_email())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD + "x")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("don't match")
    shot(page, "signup-error")


def test_narrow_window_and_dark_mode_screenshots(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/gallery")
    expect(page.locator(".prompt-card").first).to_be_visible()
    expect(page.get_by_role("button", name="Open navigation")).to_be_visible()
    shot(page, "gallery-narrow")
    page.get_by_role("button", name="Open navigation").click()
    expect(page.get_by_role("menuitem", name="Gallery")).to_be_visible()
    page.keyboard.press("Escape")
    page.emulate_media(color_scheme="dark")
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    shot(page, "login-narrow-dark")


def test_sign_in_with_google(page: Page, google_mock: OidcMock) -> None:
    email = new_email()
    google_mock.add_user("google-user-1", email=email, email_verified=True, name="Gigi")
    # The mock provider's page links a stylesheet on a CDN: answer it locally, never go out.
    page.route(
        "https://cdn.jsdelivr.net/**",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )
    page.goto("/login?next=/gallery")
    page.get_by_role("button", name="Continue with Google").click()
    page.wait_for_load_state()
    shot(page, "google-authorize")
    page.locator("input[name=sub]").fill("google-user-1")
    page.get_by_role("button", name="Authorize").click()
    expect(page).to_have_url(re.compile(r"/gallery/?$"))
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_text(email)).to_be_visible()
    shot(page, "google-signed-in")

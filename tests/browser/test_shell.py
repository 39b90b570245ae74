"""A person signs up, signs in, visits every page, toggles dark mode and signs out."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from app.services.accounts.session_cookie import SESSION_COOKIE
from tests.browser.conftest import ConsoleWatch, RunningApp, shot
from tests.utils.oidc import OidcProvider

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


def test_a_form_sent_before_the_page_state_arrives_still_goes_on_to_next(page: Page) -> None:
    """A password manager fills and sends at once, before the page's state has arrived over the
    websocket; the hidden `next` must still be the address's, not the state's default. The test
    holds back what the server says on the sign-in page's connection until the form is sent."""
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.context.clear_cookies()

    held: list[str | bytes] = []
    connections: list[WebSocketRoute] = []

    def hold_the_first(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        connections.append(ws)
        if len(connections) == 1:
            server.on_message(
                lambda m: held.append(m)
            )  # the sign-in page's: nothing reaches it for now

    page.route_web_socket(re.compile(r"/_event"), hold_the_first)
    page.goto("/login?next=/credits")
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/credits/?$"))
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    assert len(connections) == 2 and held  # the state really was held back on the first page


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


def test_sign_in_with_google(page: Page, google_mock: OidcProvider) -> None:
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


def test_page_scripts_never_see_the_session_cookie(page: Page, app_server: RunningApp) -> None:
    # A cookie left by the old frontend, which set the session from the browser.
    page.context.add_cookies(
        [{"name": "jsoncraft_session", "value": "old-token", "url": app_server.url}]
    )
    email = new_email()
    sign_up(page, email, name="Casey")
    menu = page.get_by_role("button", name="Account menu")
    expect(menu).to_contain_text("Casey")  # the app knows who is signed in
    scripts_see = page.evaluate("document.cookie")
    stored = {c["name"]: c for c in page.context.cookies()}
    assert SESSION_COOKIE in stored and stored[SESSION_COOKIE]["httpOnly"]
    assert stored[SESSION_COOKIE]["sameSite"] == "Lax"
    assert SESSION_COOKIE not in scripts_see and stored[SESSION_COOKIE]["value"] not in scripts_see
    assert "jsoncraft_session" not in scripts_see and "jsoncraft_session" not in stored
    me = page.request.get("/api/me")  # the REST API reads the same cookie
    assert me.status == 200 and me.json()["email"] == email
    page.goto("/account")
    expect(page.get_by_text(email)).to_be_visible()


def test_a_failed_sign_in_keeps_the_email_and_where_it_was_going(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.context.clear_cookies()
    page.goto("/login?next=/credits")
    sign_in(page, email, "definitely the wrong one")
    expect(page.get_by_role("alert")).to_have_text(re.compile("don't match an account"))
    expect(page.get_by_label("Email")).to_have_value(email)
    expect(page).to_have_url(re.compile(r"/login/?\?next=/credits$"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/credits/?$"))
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.reload()  # the notice was shown once: nothing left over
    page.goto("/login")
    expect(page).to_have_url(re.compile(r"/$"))  # signed in: the login page moves on


def test_sign_out_everywhere_ends_the_other_browsers_session_too(
    page: Page, browser: Browser, app_server: RunningApp
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    other = browser.new_context(base_url=app_server.url).new_page()
    other.goto("/login")
    sign_in(other, email)
    expect(other.get_by_role("button", name="Account menu")).to_be_visible()

    page.goto("/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    expect(page.get_by_text("Signed out of 2 sessions.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    other.goto("/account")
    expect(other).to_have_url(re.compile(r"/login/?\?next=/account"))
    assert other.request.get("/api/me").status == 401
    other.context.close()

"""The front door: the signed-out landing page and its live demo, update sign-ups and their CSV,
/pricing into checkout, and the signed-in overview at /dashboard."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services.billing import billing, pricing
from app.services.billing.price_list import money
from app.services.billing.pricing import DEFAULT_PLAN, PLANS
from app.services.demo.images import demo_catalog, render_demo_png
from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up
from tests.utils.images import jpeg_bytes, png_bomb

pytestmark = pytest.mark.browser
HERO = "Turn any image into a JSON prompt you can edit, version and reuse"
DEMO_INPUT = "#landing-demo-upload input[type=file]"


def _drop(page: Page, name: str, mime: str, data: bytes) -> None:
    page.locator(DEMO_INPUT).set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def _rows(app: RunningApp, table: str) -> int:
    with sqlite3.connect(app.data_dir / "jsoncraft.db") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def _fits_the_window(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _expect_real_plans_and_packs(page: Page) -> None:
    for plan in pricing.PLANS.values():
        price = money(plan.price_cents) + " / month"
        card = page.locator(".plan-card").filter(has_text=plan.display_name)
        expect(card).to_contain_text(price)
        expect(card).to_contain_text(f"{plan.monthly_credits} credits every month")
    for pack in billing.PACKS.values():
        card = page.locator(".pack-card").filter(has_text=f"{pack.credits} credits")
        expect(card.first).to_contain_text(money(pack.amount_cents))


@pytest.mark.parametrize(
    ("scheme", "width"),
    [("light", 1280), ("dark", 1280), ("light", 641), ("light", 390), ("dark", 390)],
)
def test_the_landing_page_in_light_and_dark_wide_and_narrow(
    browser: Browser, app_server: RunningApp, scheme: str, width: int
) -> None:
    context = browser.new_context(
        base_url=app_server.url, viewport={"width": width, "height": 900}, color_scheme=scheme
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/")
    expect(page.get_by_role("heading", name=HERO)).to_be_visible()
    expect(page.locator("html")).to_have_class(re.compile(rf"\b{scheme}\b"))
    expect(page.get_by_role("link", name="Sign up free")).to_have_attribute("href", "/signup")
    expect(page.locator(".featured-prompt").first).to_be_visible()
    expect(page.locator(".featured-prompt img").first).to_have_js_property("complete", True)
    assert page.locator(".featured-prompt img").first.evaluate("i => i.naturalWidth") > 0
    _expect_real_plans_and_packs(page)
    expect(page.get_by_role("link", name="REST API reference")).to_have_attribute(
        "href", re.compile(r"/api/docs$")
    )
    assert _fits_the_window(page)
    shot(page, f"landing-{scheme}-{width}")
    context.close()
    assert not errors, errors


def test_a_visitor_drops_an_image_and_sees_the_json_nothing_is_kept(
    page: Page, app_server: RunningApp
) -> None:
    assets, analyses = _rows(app_server, "assets"), _rows(app_server, "analyses")
    page.goto("/")
    expect(page.get_by_role("heading", name="Try it now, no account needed")).to_be_visible()
    png = render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))
    _drop(page, "my-sunset.png", "image/png", png)
    result = page.get_by_label("Demo result")
    expect(result.locator(".field-card").first).to_be_visible(timeout=60_000)
    expect(result.get_by_text("Palette", exact=True)).to_be_visible()
    expect(result.get_by_role("link", name="Sign up to save it")).to_have_attribute(
        "href", "/signup"
    )
    shot(page, "landing-demo-cards")
    result.get_by_role("tab", name="JSON").click()
    expect(result.locator(".json-view")).to_contain_text('"schema_version"')
    expect(result.locator(".json-view")).to_contain_text('"color_palette"')
    shot(page, "landing-demo-json")
    assert (_rows(app_server, "assets"), _rows(app_server, "analyses")) == (assets, analyses)


def test_updates_signup_needs_consent_and_a_real_email_and_admins_export_it(
    page: Page, browser: Browser, app_server: RunningApp
) -> None:
    email = new_email()
    page.goto("/")
    box = page.get_by_label("Email for updates")
    consent = page.get_by_role("checkbox", name="I agree to receive update emails")
    expect(consent).not_to_be_checked()  # never pre-ticked
    box.fill(email)
    page.get_by_role("button", name="Keep me posted").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box")
    expect(box).to_have_value(email)  # nothing typed is lost

    consent.click()
    box.fill("ada@localhost")  # the browser accepts it; the server wants a real domain
    page.get_by_role("button", name="Keep me posted").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address")
    expect(box).to_have_value("ada@localhost")
    shot(page, "landing-updates-error")

    box.fill(email.upper())
    page.get_by_role("button", name="Keep me posted").click()
    expect(page.get_by_role("status")).to_contain_text(f"{email} is on the list: pending")
    expect(consent).not_to_be_checked()
    consent.click()
    box.fill(email)
    page.get_by_role("button", name="Keep me posted").click()
    expect(page.get_by_role("status")).to_contain_text(f"{email} is on the list already")
    shot(page, "landing-updates-done")

    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    admin = browser.new_context(base_url=app_server.url).new_page()
    admin.goto("/login?next=/admin")
    sign_in(admin, admin_email)
    card = admin.get_by_label("Product-update sign-ups")
    expect(card).to_contain_text("on the list")
    with admin.expect_download() as download:
        card.get_by_role("link", name="Download CSV").click()
    csv_text = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115
    lines = csv_text.splitlines()
    assert lines[0] == "email,status,consented_at,consent_text,source,created_at"
    mine = [line for line in lines if line.startswith(f"{email},")]
    assert len(mine) == 1 and ",pending_confirmation," in mine[0]
    assert "ada@localhost" not in csv_text
    admin.context.close()


def test_pricing_buy_signed_out_signs_up_then_checks_out(page: Page) -> None:
    page.goto("/pricing")
    expect(page.get_by_role("heading", name="Pricing", exact=True)).to_be_visible()
    _expect_real_plans_and_packs(page)
    expect(page.get_by_label("What each action costs")).to_contain_text("Offline analyzer")
    shot(page, "pricing")
    page.get_by_role("button", name="Buy 100 credits").click()
    expect(page).to_have_url(re.compile(r"/signup/?\?next=/pricing%3Fbuy%3Dpack%3Asmall"))
    page.get_by_label("Name").fill("Robin")
    page.get_by_label("Email").fill(new_email())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Pay 5.00 USD")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/credits/?\?checkout=success"))
    # The free plan's sign-up credits, plus the pack.
    starting = PLANS[DEFAULT_PLAN].monthly_credits
    expect(page.get_by_label("Credit balance")).to_contain_text(f"{starting + 100} credits")


def test_dashboard_shows_a_new_accounts_empty_state_then_recent_work(
    page: Page, browser: Browser, app_server: RunningApp
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.get_by_role("link", name="Overview").first.click()
    expect(page.get_by_role("heading", name="Welcome to JSONCraft")).to_be_visible()
    expect(page.get_by_label("Balance", exact=True)).to_contain_text("0")
    expect(page.get_by_label("Recent analyses")).to_contain_text("No analyses yet")
    shot(page, "dashboard-empty")

    page.goto("/")
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": "harbour.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((640, 400))}]
    )
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)
    expect(page.locator(".assistant-turn .field-card").first).to_be_visible()
    page.get_by_role("button", name="Save to gallery").click()
    expect(page.get_by_text("Saved to the gallery (version 1).")).to_be_visible()

    page.goto("/dashboard")
    expect(page.get_by_label("Recent analyses")).to_contain_text("harbour.jpg")
    expect(
        page.get_by_label("Recent prompts").get_by_role("link", name="harbour.jpg")
    ).to_be_visible()
    expect(page.get_by_label("Analyses this month")).to_contain_text("1")
    expect(page.get_by_label("Prompts saved")).to_contain_text("1")
    expect(page.get_by_role("heading", name="Welcome to JSONCraft")).to_have_count(0)
    shot(page, "dashboard-recent")

    dark = browser.new_context(
        base_url=app_server.url, viewport={"width": 390, "height": 900}, color_scheme="dark"
    )
    narrow = dark.new_page()
    narrow.goto("/login?next=/dashboard")
    sign_in(narrow, email)
    expect(narrow.get_by_label("Recent analyses")).to_contain_text("harbour.jpg")
    assert _fits_the_window(narrow)
    shot(narrow, "dashboard-dark-narrow")
    narrow.set_viewport_size({"width": 641, "height": 900})  # the nav bar's narrowest width
    expect(narrow.get_by_role("link", name="Overview")).to_be_visible()
    assert _fits_the_window(narrow)
    shot(narrow, "dashboard-dark-641")
    dark.close()


def test_demo_refuses_bad_files_clearly_and_is_rate_limited(page: Page) -> None:
    """After the other demo tests: it uses up this address's demo allowance for a minute."""
    page.goto("/")
    expect(page.get_by_role("heading", name=HERO)).to_be_visible()
    _drop(page, "notes.png", "image/png", b"just some text, not a picture\n" * 20)
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"notes\.png: .*not a supported"))
    _drop(page, "bomb.png", "image/png", png_bomb())
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"bomb\.png: .*megapixels"))
    expect(page.get_by_label("Demo result")).to_have_count(0)
    shot(page, "landing-demo-bad-file")
    limited = False
    for i in range(6):  # the allowance is 5 a minute; earlier tests may have used some
        name = f"again-{i}.png"
        _drop(page, name, "image/png", b"still not a picture")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text(f"{name}: ")
        if "live demo takes a few images a minute" in (alert.text_content() or ""):
            limited = True
            break
    assert limited
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"Try again in \d+ (second|minute)")
    )
    shot(page, "landing-demo-rate-limited")


def test_the_docs_links_reach_the_api_description(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("link", name="REST API reference")).to_have_attribute(
        "href", re.compile(r"/api/docs$")
    )
    # The Swagger page itself loads its script from a CDN; the schema it shows is served here.
    page.get_by_role("link", name="OpenAPI schema (JSON)").click()
    expect(page).to_have_url(re.compile(r"/api/openapi\.json$"))
    expect(page.locator("body")).to_contain_text('"title":"JSONCraft API"')

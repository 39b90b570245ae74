"""Admins manage accounts and read the reports; everyone else is turned away by the server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services.billing.pricing import PLANS
from app.services.demo.images import demo_catalog, render_demo_png
from tests.browser.conftest import SCREENSHOTS, ConsoleWatch, RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up

pytestmark = pytest.mark.browser


def test_non_admin_is_refused_admin(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"localhost:\d+/$"))
    expect(page.get_by_text("You don't have access to that.")).to_be_visible()
    # The same session cookie gets nothing from the REST reports either.
    for path in ("/api/admin/usage", "/api/admin/top-users", "/api/admin/revenue"):
        assert page.request.get(path).status == 403, path


def test_admin_changes_a_role(page: Page, app_server: RunningApp) -> None:
    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    member = new_email()
    sign_up(page, member)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.context.clear_cookies()

    page.goto("/login?next=/admin")
    sign_in(page, admin_email)
    expect(page.get_by_role("heading", name="Admin · Users", exact=True)).to_be_visible()
    page.get_by_label("Search by email").fill(member)
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text=member)
    expect(row).to_have_count(1)
    row.get_by_label("Role").click()
    page.get_by_role("option", name="editor").click()
    expect(page.get_by_text(f"{member} is now editor.")).to_be_visible()
    shot(page, "admin-users")


def spend_one_credit(page: Page) -> None:
    """One analysis with a paid model (1 credit) through the analyzer."""
    page.goto("/")
    page.get_by_label("Model").click()
    page.get_by_role("option", name="NVIDIA Nemotron").click()
    expect(page.get_by_label("Cost per request")).to_contain_text("1 credit")
    png = render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": "sunset.png", "mimeType": "image/png", "buffer": png}]
    )
    answer = page.locator(".assistant-turn").last
    expect(answer.locator(".field-card").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)


def test_admin_grants_credits_and_sees_one_accounts_usage_chart_move(
    page: Page, browser: Browser, app_server: RunningApp, console: ConsoleWatch
) -> None:
    member = new_email()
    sign_up(page, member)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()

    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(20_000)
    admin = context.new_page()
    admin.on("console", console.on_console)
    admin.on("pageerror", console.on_page_error)
    admin.goto("/login?next=/admin")
    sign_in(admin, admin_email)
    expect(admin.get_by_role("heading", name="Admin · Users", exact=True)).to_be_visible()
    account = admin.get_by_label("Usage of one account", exact=True)
    expect(account).to_contain_text("Pick someone in Top users")

    admin.get_by_label("Account email").fill(member)
    admin.get_by_label("Amount").fill("5")
    admin.get_by_label("Reason").fill("Welcome credits")
    admin.get_by_role("button", name="Apply").click()
    # The account already has the free plan's credits from its sign-up.
    now_has = PLANS["free"].monthly_credits + 5
    expect(admin.get_by_text(f"Granted 5 credits: {member} now has {now_has}.")).to_be_visible()

    # Pick the member in the accounts table: nothing spent yet.
    admin.get_by_label("Search by email").fill(member)
    admin.get_by_role("button", name="Search").click()
    admin.get_by_role("row").filter(has_text=member).get_by_role(
        "button", name=f"Usage of {member}"
    ).click()
    expect(account).to_contain_text(member)
    expect(account).to_contain_text("No paid usage in the last 30 days.")
    bars = account.locator(".recharts-bar-rectangle")
    expect(bars).to_have_count(0)

    spend_one_credit(page)

    # The admin comes back to the page: the picked account's chart has today's bar.
    admin.reload()
    expect(account.get_by_label("Account total")).to_have_text("1 credit in 1 call, last 30 days")
    expect(account).to_contain_text("nvidia/nemotron")
    expect(bars).not_to_have_count(0)
    expect(admin.get_by_label("Usage per model")).to_contain_text("nvidia/nemotron")
    top = admin.get_by_label("Top users", exact=True)
    expect(top).to_contain_text(member)

    # Or by email, after closing the chart; or from the top users list.
    admin.get_by_role("button", name="Close account usage").click()
    expect(account).not_to_contain_text(member)
    admin.get_by_label("Usage of account", exact=True).fill(member.upper())
    admin.get_by_role("button", name="Show usage").click()
    expect(account.get_by_label("Account total")).to_have_text("1 credit in 1 call, last 30 days")
    admin.get_by_label("Usage of account", exact=True).fill("nobody-here@example.com")
    admin.get_by_role("button", name="Show usage").click()
    expect(admin.get_by_text("No account with that email.")).to_be_visible()
    admin.get_by_role("button", name="Close account usage").click()
    top.get_by_role("button", name=f"Usage of {member}").click()
    expect(account).to_contain_text(member)
    expect(bars).not_to_have_count(0)

    expect(admin.get_by_text("No account with that email.")).to_be_hidden(timeout=15_000)
    shot(admin, "admin-light")
    admin.emulate_media(color_scheme="dark")
    expect(admin.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    shot(admin, "admin-dark")
    bars.last.hover()
    tooltip = account.locator(".recharts-tooltip-wrapper")
    expect(tooltip).to_contain_text("nvidia/nemotron")
    expect(tooltip).to_be_visible()
    account.screenshot(path=str(SCREENSHOTS / "admin-account-tooltip-dark.png"))
    admin.set_viewport_size({"width": 390, "height": 844})
    expect(account).to_contain_text(member)
    shot(admin, "admin-narrow-dark")
    admin.emulate_media(color_scheme="light")
    shot(admin, "admin-narrow")
    context.close()

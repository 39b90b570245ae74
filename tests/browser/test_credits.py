"""Credits as people see them: a low balance warning, an admin grant, a paid analysis."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services.billing.pricing import PLANS
from app.services.demo.images import demo_catalog, render_demo_png
from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up
from tests.utils.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.browser
FREE_CREDITS = PLANS["free"].monthly_credits


def test_admin_grants_credits_user_spends_them_chart_moves(
    page: Page, browser: Browser, app_server: RunningApp, fake_openrouter: FakeOpenAIServer
) -> None:
    member = new_email()
    sign_up(page, member)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    # A new account starts with the free plan's credits, not with a low-balance warning.
    balance = page.get_by_label("Credit balance")
    expect(balance).to_have_text(re.compile(rf"^{FREE_CREDITS}\s*credits$"))
    page.goto("/credits")
    expect(page.get_by_role("heading", name=str(FREE_CREDITS), exact=True)).to_be_visible()
    expect(page.get_by_text("Your balance is low")).to_have_count(0)
    shot(page, "credits-new-account")

    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    admin = browser.new_context(base_url=app_server.url).new_page()
    admin.goto("/login?next=/admin")
    sign_in(admin, admin_email)
    expect(admin.get_by_role("heading", name="Admin · Users", exact=True)).to_be_visible()
    admin.get_by_label("Account email").fill(member)
    admin.get_by_label("Amount").fill(str(FREE_CREDITS - 5))
    admin.get_by_label("Reason").fill("Testing the low balance")
    admin.get_by_label("Direction").select_option("revoke")
    admin.get_by_role("button", name="Apply").click()
    expect(
        admin.get_by_text(f"Revoked {FREE_CREDITS - 5} credits: {member} now has 5.")
    ).to_be_visible()
    page.goto("/credits")
    expect(page.get_by_role("alert")).to_contain_text("Your balance is low")
    shot(page, "credits-low")

    page.goto("/")
    expect(balance).to_have_text(re.compile(r"^5\s*credits$"))
    page.get_by_label("Model").click()
    page.get_by_role("option", name="NVIDIA Nemotron").click()
    expect(page.get_by_label("Cost per request")).to_contain_text("1 credit")
    # Text typed before the image is dropped goes to the model as instructions.
    page.get_by_label("Message").fill("keep the dusk colours")
    sent_before = len(fake_openrouter.requests)
    png = render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": "sunset.png", "mimeType": "image/png", "buffer": png}]
    )
    answer = page.locator(".assistant-turn").last
    expect(answer.locator(".field-card").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)
    asked = json.dumps([r.body for r in fake_openrouter.requests[sent_before:]])
    assert "Extra instructions from the user: keep the dusk colours" in asked
    page.goto("/credits")
    expect(page.get_by_role("heading", name="4", exact=True)).to_be_visible()
    expect(page.get_by_label("Usage by model")).to_contain_text("nvidia/nemotron")
    shot(page, "credits-after-spend")

    admin.reload()
    usage = admin.get_by_label("Usage per model")
    expect(usage).to_contain_text("nvidia/nemotron")
    expect(admin.get_by_label("Top users")).to_contain_text(member)
    shot(admin, "admin-usage")
    admin.context.close()


def test_buy_credits_through_checkout_and_see_the_balance(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/credits")
    expect(page.get_by_label("Credit balance")).to_have_text(
        re.compile(rf"^{FREE_CREDITS}\s*credits$")
    )
    page.get_by_role("button", name="Buy 100 credits · $5").click()
    expect(page.get_by_role("heading", name="Pay 5.00 USD")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/credits/?\?checkout=success"))
    after = FREE_CREDITS + 100
    expect(page.get_by_label("Credit balance")).to_have_text(re.compile(rf"^{after}\s*credits$"))
    expect(page.get_by_role("heading", name=str(after), exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="100 credits", exact=True)).to_be_visible()
    shot(page, "credits-bought")

"""Any OpenRouter model: an admin refreshes the catalogue and sets the markup rule, a person
searches the picker for the seed's model, analyzes an image with it, and pays what it cost."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services.demo.images import demo_catalog, render_demo_png
from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up
from tests.utils.fakes.openai_server import NEMOTRON_VL, FakeOpenAIServer, openrouter_catalogue

pytestmark = pytest.mark.browser


def test_admin_refreshes_catalogue_user_picks_nemotron_and_pays_its_cost(
    page: Page, browser: Browser, app_server: RunningApp, fake_openrouter: FakeOpenAIServer
) -> None:
    listed = openrouter_catalogue()["data"]
    vision = sum("image" in m["architecture"]["input_modalities"] for m in listed)

    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    admin = browser.new_context(base_url=app_server.url).new_page()
    admin.goto("/login?next=/admin")
    sign_in(admin, admin_email)
    catalogue = admin.get_by_label("Model catalogue")
    expect(catalogue.get_by_label("Catalogue status")).not_to_be_empty()
    catalogue.get_by_role("button", name="Refresh catalogue").click()
    # A refresh is a network call plus a write: when the worker's maintenance run (every 15
    # minutes) holds SQLite's write lock, it waits for it, which can take longer than 5 s.
    refreshed = admin.get_by_text(f"Model catalogue refreshed: {len(listed)} models.")
    expect(refreshed).to_be_visible(timeout=30_000)
    expect(catalogue.get_by_label("Catalogue status")).to_contain_text(
        f"OpenRouter: {len(listed)} models, {vision} take images"
    )
    catalogue.get_by_label("Search the catalogue").fill("nemotron")
    catalogue.get_by_role("button", name="Find").click()
    expect(catalogue.get_by_text(NEMOTRON_VL, exact=True)).to_be_visible()
    shot(admin, "admin-catalogue")
    # The markup rule lives in the price table: 1000 % makes the estimate 2 credits.
    rule = admin.get_by_label("Price of rule:markup_percent")
    rule.fill("1000")
    admin.get_by_role("row").filter(has=rule).get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Price saved: rule:markup_percent.")).to_be_visible()

    member = new_email()
    sign_up(page, member)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    admin.get_by_label("Account email").fill(member)
    admin.get_by_label("Amount").fill("10")
    admin.get_by_label("Reason").fill("Catalogue test")
    admin.get_by_role("button", name="Apply").click()
    granted = admin.get_by_text(re.compile(rf"Granted 10 credits: {re.escape(member)} now has"))
    expect(granted).to_be_visible()
    balance = int(re.findall(r"now has (\d+)", granted.inner_text())[0])
    admin.context.close()

    page.goto("/")
    page.get_by_label("Search by name or vendor").fill("nemotron 12b")
    page.get_by_label("Model").click()
    options = page.get_by_role("option")
    expect(options.filter(has_text="NVIDIA: Nemotron Nano 12B 2 VL ·")).to_have_count(1)
    expect(options.filter(has_text="Model 0")).to_have_count(0)  # the search narrowed the list
    shot(page, "analyzer-picker-search")
    page.get_by_role("option", name=re.compile(r"^NVIDIA: Nemotron Nano 12B 2 VL · ")).click()
    expect(page.get_by_label("Cost per request")).to_contain_text("2 credits")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_label("Search by name or vendor")).to_be_in_viewport()
    shot(page, "analyzer-picker-narrow")
    page.set_viewport_size({"width": 1280, "height": 860})

    sent_before = len(fake_openrouter.requests)
    png = render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": "sunset.png", "mimeType": "image/png", "buffer": png}]
    )
    answer = page.locator(".assistant-turn").last
    expect(answer.locator(".field-card").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)
    expect(answer).to_contain_text(NEMOTRON_VL)
    expect(answer).to_contain_text("golden hour")
    shot(page, "analyzer-catalogue-model")
    chat = [r.body for r in fake_openrouter.requests[sent_before:] if r.method == "POST"]
    assert [body["model"] for body in chat] == [NEMOTRON_VL]
    assert chat[0]["response_format"]["type"] == "json_schema"

    # Reserved 2; OpenRouter reported $0.000417, which at 1000 % is 1 credit.
    page.goto("/credits")
    expect(page.get_by_role("heading", name=str(balance - 1), exact=True)).to_be_visible()


def test_admin_prices_one_catalogue_model_and_hides_another_from_the_picker(
    page: Page, browser: Browser, app_server: RunningApp
) -> None:
    priced, hidden = "helix/model-007-vl", "lumen/model-003-vl"
    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    admin = browser.new_context(base_url=app_server.url).new_page()
    admin.goto("/login?next=/admin")
    sign_in(admin, admin_email)
    catalogue = admin.get_by_label("Model catalogue")
    catalogue.get_by_role("button", name="Refresh catalogue").click()
    expect(admin.get_by_text(re.compile(r"Model catalogue refreshed"))).to_be_visible(
        timeout=30_000
    )
    search = catalogue.get_by_label("Search the catalogue")
    search.fill("model 007")
    catalogue.get_by_role("button", name="Find").click()
    row = catalogue.get_by_role("row").filter(has_text=priced)
    row.get_by_label(f"Credits for {priced}").fill("7")
    row.get_by_role("button", name="Save").click()
    expect(admin.get_by_text(f"Price saved: {priced} costs 7 credits.")).to_be_visible()
    expect(row).to_contain_text("set")

    search.fill("model 003")
    catalogue.get_by_role("button", name="Find").click()
    catalogue.get_by_label(f"Offer {hidden}").click()
    admin.get_by_role("option", name="Hidden").click()
    expect(admin.get_by_text(f"{hidden}: hidden.")).to_be_visible()
    expect(catalogue.get_by_role("row").filter(has_text=hidden)).to_contain_text("not offered")
    shot(admin, "admin-catalogue-choices")
    admin.context.close()

    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    find = page.get_by_label("Search by name or vendor")
    find.fill("model 007")
    page.get_by_label("Model").click()
    expect(page.get_by_role("option", name="Helix: Model 007 Vision · 7 credits")).to_be_visible()
    page.keyboard.press("Escape")
    find.fill("model 003")
    page.get_by_label("Model").click()
    expect(page.get_by_role("option", name="Offline analyzer")).to_be_visible()
    expect(page.get_by_role("option", name="Lumen")).to_have_count(0)

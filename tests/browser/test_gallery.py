"""Finding and managing prompts in the gallery: search, filter, bulk tag, trash, bundles."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from app.services.demo.images import demo_catalog
from tests.browser.conftest import shot
from tests.browser.test_shell import new_email, sign_up

pytestmark = pytest.mark.browser


def test_search_and_filter(page: Page) -> None:
    page.goto("/gallery")
    cards = page.locator(".prompt-card")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 12
    page.get_by_label("Search", exact=True).fill("lighthouse")
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Lighthouse")
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_label("Search", exact=True)).to_have_value("")  # the form remounted
    page.get_by_label("Filter by tags").fill("night")
    page.get_by_role("button", name="Search").click()
    expected = [s.title for s in demo_catalog() if "night" in s.tags]
    expect(cards).to_have_count(len(expected))
    for i in range(len(expected)):
        expect(cards.nth(i)).to_contain_text("night")
    page.get_by_label("Search", exact=True).fill('"; DROP TABLE prompts; -- NEAR( *')
    page.get_by_label("Filter by tags").fill("")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No prompts match")).to_be_visible()
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_label("Search", exact=True)).to_have_value("")
    expect(cards.first).to_be_visible()
    page.get_by_label("View").get_by_role("radio").nth(1).click()
    expect(page.locator("table .prompt-card").first).to_be_visible()
    shot(page, "gallery-list")
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(cards.first).to_be_visible()
    shot(page, "gallery-dark")


def test_bulk_tag_trash_restore_and_bundle_round_trip(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    # Make two prompts of our own by duplicating demo prompts.
    for word in ("lighthouse", "dunes"):
        page.goto("/gallery")
        page.get_by_label("Search", exact=True).fill(word)
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".prompt-card")).to_have_count(1)
        # Wait for this search's result, not the previous one's (both are one card).
        expect(page.locator(".prompt-card").first).to_contain_text(re.compile(word, re.I))
        page.locator(".prompt-card").first.locator("h3").click()
        page.get_by_role("button", name="Duplicate").click()
        expect(
            page.get_by_role("heading", name=re.compile(f"^Copy of .*{word}", re.I))
        ).to_be_visible()
    page.goto("/gallery")
    page.get_by_role("button", name="Clear").click()  # the gallery remembers the last search
    expect(page.get_by_label("Search", exact=True)).to_have_value("")  # the form remounted
    page.get_by_label("Owner").select_option("me")
    page.get_by_role("button", name="Search").click()
    mine = page.locator(".prompt-card")
    expect(mine).to_have_count(2)
    for i in range(2):
        mine.nth(i).get_by_role("checkbox").click()
    bar = page.get_by_label("Bulk actions")
    expect(bar).to_contain_text("2 selected")
    bar.get_by_label("Bulk tag").fill("favourite-set")
    bar.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Updated tags on 2 prompt(s).")).to_be_visible()
    expect(mine.first).to_contain_text("favourite-set")

    for i in range(2):
        mine.nth(i).get_by_role("checkbox").click()
    with page.expect_download() as download_info:
        page.get_by_label("Bulk actions").get_by_role("button", name="Export zip").click()
    bundle = download_info.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        assert "manifest.json" in zf.namelist()
    shot(page, "gallery-bulk")

    page.get_by_label("Bulk actions").get_by_role("button", name="Move to trash").click()
    expect(page.get_by_text("Moved 2 prompt(s) to the trash.")).to_be_visible()
    page.get_by_role("button", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash", exact=True)).to_be_visible()
    trashed = page.locator(".prompt-card")
    expect(trashed).to_have_count(2)
    trashed.first.get_by_role("checkbox").click()
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Restored 1 prompt(s).")).to_be_visible()

    # A fresh account imports the bundle: both prompts arrive; importing again skips duplicates.
    page.context.clear_cookies()
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/gallery")
    upload = page.locator("#bundle-upload input[type=file]")
    upload.set_input_files(
        files=[{"name": "mine.zip", "mimeType": "application/zip", "buffer": bundle}]
    )
    expect(page.get_by_role("alert")).to_contain_text("Imported 2 prompt(s)")
    upload.set_input_files(
        files=[{"name": "mine.zip", "mimeType": "application/zip", "buffer": bundle}]
    )
    expect(page.get_by_role("alert")).to_contain_text("skipped 2 duplicate(s)")
    upload.set_input_files(
        files=[{"name": "bad.zip", "mimeType": "application/zip", "buffer": b"not a zip"}]
    )
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
    shot(page, "gallery-import")

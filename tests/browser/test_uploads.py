"""Uploading images on the home page: good files are listed, bad ones get a clear message."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_shell import new_email, sign_up
from tests.images import jpeg_bytes, png_bomb, truncated_jpeg

pytestmark = pytest.mark.browser


def _upload(page: Page, name: str, mime: str, data: bytes) -> None:
    page.locator("#image-upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def test_upload_good_and_bad_images(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_text("No images yet")).to_be_visible()

    _upload(page, "harbour.jpg", "image/jpeg", jpeg_bytes((1200, 800)))
    expect(page.get_by_text("harbour.jpg")).to_be_visible()
    expect(page.get_by_text("1200 × 800")).to_be_visible()

    _upload(page, "notes.jpg", "image/jpeg", b"just some text, not a picture at all\n" * 20)
    expect(page.get_by_role("alert").filter(has_text="notes.jpg")).to_contain_text(
        "not a supported image"
    )

    _upload(page, "cut.jpg", "image/jpeg", truncated_jpeg())
    expect(page.get_by_role("alert").filter(has_text="cut.jpg")).to_contain_text("truncated")

    _upload(page, "bomb.png", "image/png", png_bomb())
    expect(page.get_by_role("alert").filter(has_text="bomb.png")).to_contain_text("20000")
    # The failures stored nothing: still exactly one image listed.
    expect(page.get_by_text("harbour.jpg")).to_have_count(1)
    shot(page, "home-uploads")

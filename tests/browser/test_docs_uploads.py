"""/docs/uploads as a developer reads it: the steps in order, each in three languages, copyable."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.pages.docs_uploads import EXAMPLES_DIR
from tests.browser.conftest import RunningApp, shot

pytestmark = pytest.mark.browser

STEP_HEADINGS = (
    "Before you start",
    "1. Ask for upload URLs: POST /api/uploads",
    "2. Send the bytes straight to storage",
    "3. Complete: POST /api/uploads/{id}/complete",
    "List: GET /api/uploads",
    "Look one up: GET /api/uploads/{id}",
    "Delete: DELETE /api/uploads/{id}",
    "Webhook deliveries",
    "Mint a client token (server side)",
    "The upload button for your site",
)


def test_steps_languages_and_copy(page: Page, app_server: RunningApp) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server.url)
    page.goto("/docs/uploads")
    expect(page.get_by_role("heading", name="Uploads for developers", level=1)).to_be_visible()
    headings = page.get_by_role("heading", level=2)
    for title in STEP_HEADINGS:
        expect(headings.filter(has_text=title).first).to_be_visible()
    # The page reads top to bottom in the order a developer calls the API.
    texts = headings.all_inner_texts()
    order = [next(i for i, t in enumerate(texts) if t.startswith(s)) for s in STEP_HEADINGS[1:4]]
    assert order == sorted(order), texts

    # Inline code shows as code, not as backticks.
    setup_card = page.locator(".rt-Card", has=page.get_by_role("heading", name="Before you start"))
    inline = setup_card.locator("code", has_text="Authorization: Bearer $JSONCRAFT_KEY")
    expect(inline).to_have_text("Authorization: Bearer $JSONCRAFT_KEY")
    expect(setup_card).not_to_contain_text("`")

    presign = page.locator(".rt-Card", has=page.locator("#presign"))
    expect(presign.locator("code", has_text="multipart.parts")).to_be_visible()
    # Radix keeps only the selected tab's panel in the page: the one panel is what is shown.
    panel = presign.get_by_role("tabpanel")
    expect(panel).to_contain_text('curl -sS -X POST "$JSONCRAFT_API/api/uploads"')
    python_tab = presign.get_by_role("tab", name="Python (httpx)")
    python_tab.click()
    expect(python_tab).to_have_attribute("aria-selected", "true")
    expect(panel).to_contain_text("import httpx")
    expect(panel).to_contain_text("answer.raise_for_status()")
    expect(panel).not_to_contain_text("curl")
    shot(page, "docs-uploads-python")

    presign.get_by_role("button", name="Copy the Python (httpx) example").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (EXAMPLES_DIR / "presign.py").read_text(encoding="utf-8").rstrip()

    presign.get_by_role("tab", name="JavaScript").click()
    expect(panel).to_contain_text("await fetch(")
    expect(panel).not_to_contain_text("import httpx")

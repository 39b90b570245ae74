"""The REST API's docs (Swagger UI and ReDoc) work offline: every asset comes from the app."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _offline(page: Page) -> list[str]:
    """Abort every request that would leave the machine; return the URLs that tried."""
    blocked: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", handle)
    return blocked


def test_swagger_ui_lists_the_operations_offline(page: Page) -> None:
    blocked = _offline(page)
    page.goto("/api/docs")
    expect(page.get_by_role("heading", name="JSONCraft API")).to_be_visible(timeout=30_000)
    # Operations are grouped by tag; each one shows its method and path.
    expect(page.locator(".opblock-tag", has_text="prompts")).to_be_visible()
    get_prompt = page.locator(".opblock-get", has_text="/api/prompts/{prompt_id}").first
    expect(get_prompt).to_be_visible()
    get_prompt.locator(".opblock-summary").click()
    expect(page.get_by_text("One prompt, in full").first).to_be_visible()
    expect(page.locator(".opblock-post", has_text="/api/analyze")).to_be_visible()
    shot(page, "api-docs-swagger")
    assert blocked == [], f"the docs tried to reach the internet: {blocked}"


def test_redoc_lists_the_operations_offline(page: Page) -> None:
    blocked = _offline(page)
    page.goto("/api/redoc")
    # ReDoc reads and lays out the whole schema before it shows anything: seconds on a busy CI.
    expect(page.get_by_role("heading", name="JSONCraft API")).to_be_visible(timeout=30_000)
    # Operations are grouped by tag in the side menu: open a group to see its operations.
    page.get_by_role("menuitem", name="prompts", exact=True).click()
    operation = page.get_by_role("menuitem", name=re.compile("One prompt, in full"))
    expect(operation).to_be_visible()
    operation.click()
    expect(page.get_by_role("heading", name="One prompt, in full")).to_be_visible()
    page.get_by_role("menuitem", name="analyze", exact=True).click()
    expect(
        page.get_by_role("menuitem", name=re.compile("Analyze an image into a JSON prompt"))
    ).to_be_visible()
    shot(page, "api-docs-redoc")
    assert blocked == [], f"the docs tried to reach the internet: {blocked}"

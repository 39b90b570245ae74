"""Admins manage accounts; everyone else is turned away by the server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up

pytestmark = pytest.mark.browser


def test_non_admin_is_refused_admin(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"localhost:\d+/$"))
    expect(page.get_by_text("You don't have access to that.")).to_be_visible()


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

"""An event handler that fails unexpectedly shows the generic message with a reference, never
the error itself, and the reference is kept as an ErrorEvent an admin can search for."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import new_email, sign_up

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"Something went wrong on our side\. Reference: ([0-9a-f]{12,32})")


@contextmanager
def table_missing(database: Path, table: str) -> Iterator[None]:
    """A real failure: the table is renamed away (a broken database), then put back."""
    with sqlite3.connect(database) as db:
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        with sqlite3.connect(database) as db:
            db.execute(f"ALTER TABLE {table}_away RENAME TO {table}")


def test_an_unexpected_page_error_shows_a_reference_that_is_recorded(
    page: Page, app_server: RunningApp
) -> None:
    database = app_server.data_dir / "jsoncraft.db"
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()

    # The gallery's saved filters load in a handler with no error handling of its own: the
    # app-wide handler (rx.App backend_exception_handler) answers for it.
    with table_missing(database, "saved_filters"):
        page.goto("/gallery")
        toast = page.get_by_text(REFERENCE)
        expect(toast).to_be_visible()
        shot(page, "page-error-reference")
        match = REFERENCE.search(toast.inner_text())
    assert match is not None
    reference = match.group(1)
    expect(page.get_by_text("saved_filters")).to_have_count(0)  # nothing of the error itself
    expect(page.get_by_text("OperationalError")).to_have_count(0)

    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT source, location, error_type, message FROM error_events WHERE reference = ?",
            (reference,),
        ).fetchall()
    assert len(rows) == 1
    source, location, error_type, message = rows[0]
    assert source == "page"
    assert location == "SavedFiltersState.load_saved_filters"
    assert error_type == "OperationalError"
    assert "no such table: saved_filters" in message

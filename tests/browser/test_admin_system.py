"""/admin/system as an admin reads it: health badges, workers, provider errors, failing
webhooks, errors found by the reference a person pasted, the email outbox; others are refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up
from tests.utils.layout_checks import assert_fits

pytestmark = pytest.mark.browser

REFERENCE = "5e1f0c2a9b7d4e3f"


@pytest.fixture
def app_db(app_server: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Services in this process use the running app's database."""
    from app.settings import reset_settings

    monkeypatch.setenv("DATA_DIR", str(app_server.data_dir))
    reset_settings()
    yield
    reset_settings()


def _clear_logs() -> None:
    """Errors, emails and provider calls other tests left: this test reads the empty page."""
    from sqlalchemy import delete

    from app.services.core.db import session_scope
    from app.services.core.models import EmailMessage, ErrorEvent, ProviderCall

    with session_scope() as session:
        for table in (ErrorEvent, EmailMessage, ProviderCall):
            session.exec(delete(table))  # type: ignore[call-overload]


def _seed(admin_email: str, hook_url: str) -> None:
    from sqlmodel import select

    from app.services.core.db import session_scope
    from app.services.core.models import (
        EmailMessage,
        ErrorEvent,
        Project,
        ProviderCall,
        User,
        WebhookEndpoint,
    )

    now = datetime.now(UTC)
    with session_scope() as session:
        admin = session.exec(select(User).where(User.email == admin_email)).one()
        for i in range(24):  # more than a page
            session.add(
                ErrorEvent(
                    reference=f"{i:04d}aaaa{i:08d}",
                    source="api",
                    location="/api/prompts",
                    error_type="OperationalError",
                    message=f"database is locked ({i})",
                    created_at=now - timedelta(minutes=30 + i),
                )
            )
        session.add(
            ErrorEvent(
                reference=REFERENCE,
                source="page",
                location="StudioState.start_job",
                error_type="KeyError",
                message="'resize'",
                user_id=admin.id,
                created_at=now - timedelta(hours=5),  # on the second page
            )
        )
        session.add_all(
            [
                EmailMessage(
                    user_id=admin.id,
                    to_address=admin_email,
                    kind="low_credits",
                    subject="Your credits are running low",
                    context={"balance": 3, "url": "http://localhost/credits"},
                    status="outbox",
                    created_at=now - timedelta(minutes=2),
                ),
                EmailMessage(
                    to_address="bounce@example.com",
                    kind="payment_receipt",
                    subject="Your receipt",
                    context={"amount": "$9.00"},
                    status="failed",
                    attempts=5,
                    last_error="550 mailbox unavailable",
                    created_at=now - timedelta(minutes=5),
                ),
            ]
        )
        for minutes, kind in ((1, None), (3, "timeout"), (7, None), (20, "server_error")):
            session.add(
                ProviderCall(
                    provider="openrouter",
                    operation="analysis",
                    error_kind=kind,
                    created_at=now - timedelta(minutes=minutes),
                )
            )
        project = Project(owner_id=admin.id or 0, name="System page shop")
        session.add(project)
        session.flush()
        session.add(
            WebhookEndpoint(
                project_id=project.id or 0,
                url=hook_url,
                secret_enc="sealed",
                failing_since=now - timedelta(hours=2),
            )
        )


def test_non_admin_is_refused_admin_system(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/admin/system")
    expect(page).to_have_url(re.compile(r"localhost:\d+/$"))
    expect(page.get_by_text("You don't have access to that.")).to_be_visible()


def test_admin_reads_the_system_page(page: Page, app_server: RunningApp, app_db: None) -> None:
    admin_email = new_email()
    app_server.cli("create-admin", admin_email, "--password-stdin", stdin=PASSWORD + "\n")
    _clear_logs()
    page.goto("/login?next=/admin")
    sign_in(page, admin_email)
    page.get_by_role("link", name=re.compile("^System")).click()
    expect(page.get_by_role("heading", name="Admin · System", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/system/?$"))

    health = page.get_by_label("Health")
    for badge in ("database: up", "storage: up", "queue: up", "redis: not configured"):
        expect(health.get_by_text(badge, exact=True)).to_be_visible()
    expect(page.get_by_label("Queue").get_by_text(re.compile(r"^waiting: \d+$"))).to_be_visible()
    # The app's own queue worker, from the heartbeat it writes.
    workers = page.get_by_label("Workers")
    expect(workers.get_by_text("alive").first).to_be_visible()
    expect(workers.get_by_role("row").filter(has_text="alive").first).to_contain_text("ago")

    # Empty states, before anything went wrong.
    expect(page.get_by_text("No provider calls in the last hour.")).to_be_visible()
    expect(page.get_by_text(re.compile("^No errors recorded"))).to_be_visible()
    expect(page.get_by_text(re.compile("^No emails here"))).to_be_visible()
    shot(page, "admin-system-empty")

    hook_url = f"https://receiver.invalid/{uuid.uuid4().hex}"
    _seed(admin_email, hook_url)
    page.get_by_role("button", name="Refresh").click()

    providers = page.get_by_label("Provider errors, last hour")
    row = providers.get_by_role("row").filter(has_text="openrouter").first
    expect(row).to_contain_text("50%")
    expect(providers.get_by_label("Errors per 5 minutes")).to_be_visible()
    expect(providers.get_by_role("row").filter(has_text="timeout")).to_have_count(1)

    hooks = page.get_by_label("Webhook endpoints failing")
    hook = hooks.get_by_role("row").filter(has_text=hook_url)
    expect(hook).to_contain_text("failing")
    expect(hook).to_contain_text("System page shop")

    errors = page.get_by_label("Recent errors")
    expect(errors.get_by_text("25 found")).to_be_visible()
    expect(errors.get_by_text("Page 1 of 2")).to_be_visible()
    expect(errors.get_by_text(REFERENCE)).to_have_count(0)  # too old for the first page
    errors.get_by_role("button", name="Older errors").click()
    expect(errors.get_by_text(REFERENCE)).to_be_visible()

    # What the person saw, pasted whole.
    errors.get_by_label("Search errors").fill(
        f"Something went wrong on our side. Reference: {REFERENCE}"
    )
    errors.get_by_role("button", name="Find").click()
    expect(errors.get_by_text("1 found")).to_be_visible()
    found = errors.get_by_role("row").filter(has_text=REFERENCE)
    expect(found).to_contain_text("KeyError")
    expect(found).to_contain_text("StudioState.start_job")
    errors.get_by_label("Search errors").fill("no such thing anywhere")
    errors.get_by_role("button", name="Find").click()
    expect(errors.get_by_text("No error matches that reference or text.")).to_be_visible()
    errors.get_by_label("Search errors").fill(REFERENCE[:6])
    errors.get_by_role("button", name="Find").click()
    expect(errors.get_by_text("1 found")).to_be_visible()

    outbox = page.get_by_label("Email outbox")
    expect(outbox.get_by_text("2 emails")).to_be_visible()
    outbox.get_by_role("button", name="Open Your receipt").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Your receipt")).to_be_visible()
    expect(dialog).to_contain_text("To bounce@example.com")
    expect(dialog.get_by_text("550 mailbox unavailable")).to_be_visible()
    expect(dialog.get_by_label("Email text")).to_have_text("amount: $9.00")
    shot(page, "admin-system-email")
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    outbox.get_by_label("Email status").select_option("outbox")
    expect(outbox.get_by_text("1 email", exact=True)).to_be_visible()
    expect(outbox.get_by_text("Your credits are running low")).to_be_visible()
    expect(outbox.get_by_text("Your receipt")).to_have_count(0)
    shot(page, "admin-system")

    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    shot(page, "admin-system-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_fits(page, 390)
    shot(page, "admin-system-narrow-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("link", name="Users, credits and reports").click()
    expect(page.get_by_role("heading", name="Admin · Users", exact=True)).to_be_visible()

"""The Webhooks tab as a developer uses it, against a receiver on loopback that verifies every
request with the `standardwebhooks` library: add an endpoint (the secret shown once), send a
test event and see it delivered with 200, a receiver answering 500 shows the failed attempt and
the next retry time, replay it, rotate the secret, refuse a bad URL, delete; narrow and dark."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect
from standardwebhooks import Webhook

from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db, shot  # noqa: F401 - app_db is a fixture
from tests.utils.fakes.webhook_receiver import Reply, WebhookReceiver

pytestmark = pytest.mark.browser
DELIVERY_TIMEOUT = 30_000  # ms: the queue worker sends, the page reads the log every 1.5 s


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def seed_project(email: str) -> int:
    """A project for the signed-up account (the projects dashboard is another page's job)."""
    from sqlmodel import select

    from app.services.accounts.api_keys import create_key
    from app.services.core.db import session_scope
    from app.services.core.models import User

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        return create_key(session, owner=user, project_name="Shop uploads").project_id


def delivery(page: Page, delivery_id: str) -> Locator:
    return page.locator(".webhook-delivery").filter(has_text=delivery_id)


def test_add_test_fail_retry_replay_rotate_and_delete(
    page: Page,
    app_db: None,  # noqa: F811
    receiver: WebhookReceiver,
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = seed_project(email)
    page.goto(f"/projects/{project_id}/webhooks")
    expect(page.get_by_role("heading", name="Shop uploads · Webhooks")).to_be_visible()
    expect(page.get_by_text("No endpoints yet")).to_be_visible()
    expect(page.get_by_role("link", name="Webhooks")).to_have_attribute("aria-current", "page")
    shot(page, "webhooks-empty")

    # A URL that can't be one: the form says why and keeps what was typed.
    page.get_by_label("Endpoint URL").fill("ftp://files.example.com/in")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("alert")).to_contain_text("must start with https://")
    expect(page.get_by_label("Endpoint URL")).to_have_value("ftp://files.example.com/in")

    url = receiver.url + "/hooks"
    page.get_by_label("Endpoint URL").fill(url)
    page.get_by_role("button", name="Add endpoint").click()
    secret_box = page.get_by_label("Signing secret")
    expect(secret_box).to_contain_text("whsec_")
    secret = secret_box.inner_text().strip()
    card = page.locator(".webhook-endpoint").filter(has=page.get_by_role("heading", name=url))
    expect(card.get_by_label("Endpoint status")).to_have_text("Enabled")
    expect(card.get_by_text("No deliveries yet.")).to_be_visible()
    shot(page, "webhooks-secret")
    page.get_by_role("button", name="Done").click()
    expect(secret_box).to_have_count(0)

    # A test event, delivered and verified by the receiver.
    card.get_by_role("button", name="Send test event").click()
    (first,) = receiver.wait_for(1)
    assert Webhook(secret).verify(first.body, first.headers)["type"] == "webhook.test"
    ok = delivery(page, first.headers["webhook-id"])
    expect(ok.get_by_label("Delivery status")).to_have_text("succeeded", timeout=DELIVERY_TIMEOUT)
    expect(ok.get_by_label("Attempt status")).to_have_text("200")
    expect(ok.get_by_label("Response excerpt")).to_have_text('{"ok":true}')

    # The receiver breaks: the failed attempt shows, with its answer and the next retry time
    # (the retry 5 s later fails too, so the delivery stays pending until the replay).
    receiver.script(Reply(500, b"receiver broke"))
    card.get_by_role("button", name="Send test event").click()
    (_, failing) = receiver.wait_for(2)
    failing_id = failing.headers["webhook-id"]
    failed = delivery(page, failing_id)
    latest_attempt = failed.get_by_label("Attempt status").first
    expect(latest_attempt).to_have_text("500", timeout=DELIVERY_TIMEOUT)
    expect(failed.get_by_label("Response excerpt").first).to_have_text("receiver broke")
    expect(failed.get_by_label("Delivery status")).to_have_text("pending")
    expect(failed.get_by_text(re.compile(r"^Next retry \d{4}-\d\d-\d\d"))).to_be_visible()
    shot(page, "webhooks-failed")
    receiver.wait_for(3)  # its first retry, 5 s later, fails too; the next is minutes away
    expect(failed.get_by_text("2 attempts")).to_be_visible(timeout=DELIVERY_TIMEOUT)

    # Replay: the same message again, same webhook-id; it ends delivered.
    receiver.script(Reply(200))
    failed.get_by_role("button", name="Replay " + failing_id).click()
    expect(failed.get_by_label("Delivery status")).to_have_text(
        "succeeded", timeout=DELIVERY_TIMEOUT
    )
    expect(latest_attempt).to_have_text("200")
    expect(failed.get_by_text("replay", exact=True)).to_be_visible()
    retried = [r for r in receiver.requests if r.headers["webhook-id"] == failing_id]
    assert len(retried) >= 2 and all(r.body == failing.body for r in retried)
    for request in retried:
        Webhook(secret).verify(request.body, request.headers)

    # Rotate: a new secret once; the next event verifies with the new and the old one.
    card.get_by_role("button", name="Rotate secret").click()
    expect(secret_box).to_contain_text("whsec_")
    rotated = secret_box.inner_text().strip()
    assert rotated != secret
    page.get_by_role("button", name="Done").click()
    count = len(receiver.requests)
    card.get_by_role("button", name="Send test event").click()
    latest = receiver.wait_for(count + 1)[-1]
    Webhook(rotated).verify(latest.body, latest.headers)
    Webhook(secret).verify(latest.body, latest.headers)

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "webhooks-narrow")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shot(page, "webhooks-dark")

    # A receiver that answers 410 Gone: its endpoint is disabled at once, and the page says so.
    gone_url = receiver.url + "/gone"
    page.get_by_label("Endpoint URL").fill(gone_url)
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_role("button", name="Done").click()
    gone = page.locator(".webhook-endpoint").filter(has=page.get_by_role("heading", name=gone_url))
    receiver.script(Reply(410))
    gone.get_by_role("button", name="Send test event").click()
    expect(gone.get_by_label("Endpoint status")).to_have_text("Disabled", timeout=DELIVERY_TIMEOUT)
    expect(page.get_by_role("alert")).to_have_text(
        f"Webhook endpoint {gone_url} was disabled: The endpoint answered 410 Gone."
    )
    expect(gone.get_by_role("button", name="Enable")).to_be_visible()
    expect(gone.get_by_role("button", name="Send test event")).to_be_disabled()
    expect(gone.get_by_text("Failed: endpoint disabled")).to_be_visible()
    shot(page, "webhooks-gone")

    for url_of in (gone_url, url):
        page.locator(".webhook-endpoint").filter(
            has=page.get_by_role("heading", name=url_of)
        ).get_by_role("button", name="Delete").click()
        page.get_by_role("button", name="Delete endpoint").click()
    expect(page.get_by_text("No endpoints yet")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_another_persons_project_shows_nothing(
    page: Page,
    app_db: None,  # noqa: F811
) -> None:
    owner = new_email()
    sign_up(page, owner)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = seed_project(owner)
    page.context.clear_cookies()
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto(f"/projects/{project_id}/webhooks")
    expect(page.get_by_text("Project not found")).to_be_visible()
    expect(page.get_by_role("button", name="Add endpoint")).to_have_count(0)

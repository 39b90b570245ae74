"""The studio's "Describe as JSON prompts": two images in, the cost seen before running, each
image's JSON prompt saved to the gallery with the job's tag."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import (  # app_db: a fixture, used by the one below
    JOB_TIMEOUT,
    app_db,  # noqa: F401
    grant,
    job_card,
    photo,
    pick,
    shot,
    tick,
)

pytestmark = pytest.mark.browser
PRICE = 3
LOCAL = "local/jsoncraft-vision"


@pytest.fixture
def priced_offline_analyzer(app_db: None) -> Iterator[None]:  # noqa: F811
    """The offline analyzer at PRICE credits a call (free by default), back to free after."""
    from sqlalchemy import delete
    from sqlmodel import col

    from app.services.billing import pricing
    from app.services.core.db import session_scope
    from app.services.core.models import Price, Role, User

    key = f"{pricing.MODEL_PREFIX}{LOCAL}"
    with session_scope() as session:
        admin = User(email="admin@example.com", role=Role.admin.value)
        pricing.set_price(session, actor=admin, key=key, credits=PRICE)
    yield
    with session_scope() as session:
        session.exec(delete(Price).where(col(Price.key) == key))  # type: ignore[call-overload]


def test_describe_two_images_into_the_gallery_with_the_jobs_tag(
    page: Page, priced_offline_analyzer: None
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    grant(email, 10)
    page.goto("/studio")
    expect(page.get_by_text("No jobs yet")).to_be_visible()
    pick(page, [("harbour.jpg", photo(1, "JPEG")), ("meadow.png", photo(2, "PNG"))])
    expect(page.get_by_label("Picked files summary")).to_contain_text("2 images · 2 files")

    tick(page, "Describe as JSON prompts")
    expect(page.get_by_label("Analyzer model")).to_contain_text(
        f"Offline analyzer · {PRICE} credits / image"
    )
    cost = page.get_by_label("Cost preview")
    expect(cost).to_contain_text("Describe as JSON prompts (Offline analyzer)")
    expect(cost).to_contain_text(f"{PRICE} / image")
    expect(cost.get_by_role("radio", name="Run now")).to_contain_text(f"{2 * PRICE} credits")
    expect(cost).to_contain_text("10 credits")  # the balance
    run = page.get_by_role("button", name=f"Run now · {2 * PRICE} credits")
    expect(run).to_be_enabled()
    shot(page, "studio-describe-form")

    run.click()
    started = page.get_by_text(re.compile(r"Started job #\d+ for 2 images"))
    expect(started).to_be_visible(timeout=30_000)
    match = re.search(r"#(\d+)", started.inner_text())
    assert match is not None
    tag = f"studio-job-{match.group(1)}"
    card = job_card(page)
    expect(card).to_contain_text("describe as JSON prompts")
    expect(card).to_contain_text(tag)
    expect(card.locator(".studio-item")).to_have_count(2)
    shot(page, "studio-describe-progress")

    expect(card.locator(".studio-item[data-status=done]")).to_have_count(2, timeout=JOB_TIMEOUT)
    expect(card).to_have_attribute("data-status", "done")
    expect(card.get_by_text("Saved to gallery")).to_have_count(2)
    expect(card).to_contain_text(f"{2 * PRICE} credits charged")
    expect(page.get_by_label("Credit balance")).to_have_text(
        re.compile(rf"^{10 - 2 * PRICE}\s*credits$")
    )
    expect(card.get_by_role("link", name="Download harbour.prompt.json")).to_be_visible()
    shot(page, "studio-describe-done")

    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shot(page, "studio-describe-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Open navigation")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"
    shot(page, "studio-describe-narrow")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A result links to its saved prompt.
    job_card(page).get_by_role("link", name="Saved to gallery: open meadow.prompt.json").click()
    expect(page).to_have_url(re.compile(r"/prompts/\d+$"))
    expect(page.get_by_text("meadow.png").first).to_be_visible()

    # Both prompts are in the gallery under the job's tag.
    page.goto("/gallery")
    page.get_by_label("Filter by tags").fill(tag)
    page.get_by_role("button", name="Search").click()
    cards = page.locator(".prompt-card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="harbour.jpg")).to_have_count(1)
    expect(cards.filter(has_text="meadow.png")).to_have_count(1)
    shot(page, "studio-describe-gallery")

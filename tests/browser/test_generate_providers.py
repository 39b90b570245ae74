"""Issue 12's "Done when": every provider (Together, Fal, OpenRouter) and the offline layout
preview generate from a saved prompt in the browser and land in the gallery with their metadata.

The app talks to each provider's loopback fake through its real client (conftest's app_server);
the job worker beside the app makes the images, as in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import shot
from tests.browser.test_generate import IMAGES_TIMEOUT, OFFLINE, pick, saved_prompt, sent
from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db as app_db
from tests.utils.fakes import together_server
from tests.utils.fakes.fal_training_server import FakeFalTrainingServer
from tests.utils.fakes.loopback import RecordedRequest
from tests.utils.fakes.openai_server import FakeOpenAIServer
from tests.utils.fakes.together_server import FakeTogetherServer

pytestmark = pytest.mark.browser
SEED = 7


@dataclass(frozen=True)
class Case:
    key: str
    label: str  # as the model picker names it
    model_id: str
    prompt_format: str  # what "What the model receives" shows: "json" or "text"
    paid: bool
    short_label: str = ""  # as the gallery names it, when shorter than the picker's

    @property
    def gallery_label(self) -> str:
        return self.short_label or self.label


CASES = [
    Case("together", "FLUX.2 [dev]", "black-forest-labs/FLUX.2-dev", "json", paid=True),
    Case("fal", "FLUX.1 [schnell] on Fal", "fal-ai/flux/schnell", "text", paid=True),
    Case(
        "openrouter",
        "Google Gemini 2.5 Flash Image",
        "google/gemini-2.5-flash-image",
        "text",
        paid=True,
    ),
    Case(
        "layout",
        OFFLINE,
        "jsoncraft/layout-preview",
        "json",
        paid=False,
        short_label="Layout preview",
    ),
]


@pytest.fixture
def fakes(
    fake_together: FakeTogetherServer,
    fake_fal: FakeFalTrainingServer,
    fake_openrouter: FakeOpenAIServer,
) -> dict[str, Any]:
    return {"together": fake_together, "fal": fake_fal, "openrouter": fake_openrouter}


def _credits(page: Page) -> int:
    text = page.get_by_label("Balance", exact=True).inner_text()
    match = re.fullmatch(r"(\d+) credits", text.strip())
    assert match, text
    return int(match[1])


def _credits_text(amount: int) -> str:
    """As an image's card says what it cost."""
    return "free" if amount == 0 else f"{amount} credit{'' if amount == 1 else 's'}"


def _calls_for(fake: Any, model_id: str) -> list[RecordedRequest]:
    """The requests that asked the provider's fake for `model_id` (by body or by path)."""
    return [
        r
        for r in list(fake.requests)
        if r.method == "POST"
        and (
            (isinstance(r.body, dict) and r.body.get("model") == model_id)
            or r.path.strip("/") == model_id
        )
    ]


def _param(made: Locator, label: str) -> Locator:
    """The value beside `label` in the image's parameters."""
    return made.locator("dt", has_text=label).locator("xpath=following-sibling::dd[1]")


def _version_data(prompt_id: int) -> dict[str, Any]:
    from app.services.core.db import session_scope
    from app.services.core.models import Prompt, PromptVersion

    with session_scope() as session:
        prompt = session.get(Prompt, prompt_id)
        assert prompt is not None
        version = session.get(PromptVersion, prompt.current_version_id)
        assert version is not None
        return dict(version.data)


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_each_provider_generates_from_a_saved_prompt_into_the_gallery(
    page: Page, app_db: None, fakes: dict[str, Any], case: Case
) -> None:
    from app.services.generation import metadata

    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("link", name="Generate")).to_be_visible()
    title = f"Pier {case.key} {abs(hash(email)) % 100_000}"
    scene = f"A wooden pier at dawn ({case.key})"
    prompt_id = saved_prompt(email, scene, title=title)
    fake = fakes.get(case.key)
    calls_before = len(_calls_for(fake, case.model_id)) if fake else 0

    page.goto(f"/generate?prompt={prompt_id}")
    expect(sent(page)).to_contain_text(scene)
    pick(page, "Model", case.label)
    expect(page.get_by_role("combobox", name="Model")).to_have_text(case.label)
    cost_label = page.get_by_label("Cost", exact=True)
    if case.paid:
        expect(cost_label).to_have_text(re.compile(r"^[1-9]\d* credits$"))
        cost = int(cost_label.inner_text().split()[0])
    else:
        expect(cost_label).to_have_text("Free")
        cost = 0
    if case.prompt_format == "json":  # FLUX.2 and the preview take BFL's JSON prompt
        expect(sent(page)).to_contain_text(f'"scene":"{scene}')
    else:  # FLUX.1 and chat models read prose
        expect(sent(page)).to_contain_text(scene)
        expect(sent(page)).not_to_contain_text('"scene"')
    page.get_by_role("radio", name="1").click()
    page.get_by_role("radio", name="Fixed").click()
    page.get_by_label("Seed value").fill(str(SEED))
    balance = _credits(page)
    page.get_by_role("button", name="Generate", exact=True).click()

    run = page.locator(".generation-run").first
    expect(run).to_contain_text(case.label)
    expect(run.get_by_label(re.compile(r"Image \d status"))).to_have_text(
        ["Done"], timeout=IMAGES_TIMEOUT
    )
    expect(run.get_by_role("img")).to_have_count(1)
    done = run.locator(".generated-image").first
    expect(done).to_contain_text(f"Seed {SEED}")
    expect(done).to_contain_text(f"Cost: {_credits_text(cost)}")
    expect(page.get_by_label("Balance", exact=True)).to_have_text(f"{balance - cost} credits")
    shot(page, f"generate-provider-{case.key}-done")
    if fake is not None:  # the app reached the provider (its fake), with the seed asked for
        calls = _calls_for(fake, case.model_id)[calls_before:]
        assert len(calls) == 1, calls
        assert calls[0].body["seed"] == SEED

    # The gallery: the card names the model; the Generated filter finds it.
    page.goto("/gallery")
    cards = page.locator(".prompt-card")
    expect(cards.first).to_be_visible()
    page.get_by_label("Search", exact=True).fill(title)
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(2, timeout=IMAGES_TIMEOUT)  # the source and its image
    page.get_by_label("Origin").select_option("generated")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(f"Generated · {case.gallery_label}")
    shot(page, f"gallery-provider-{case.key}")
    cards.first.locator("h3").click()
    made = page.get_by_label("How this image was made")
    expect(made).to_contain_text(f"Generated · {case.gallery_label}")
    expect(_param(made, "Model")).to_have_text(f"{case.gallery_label} ({case.model_id})")
    expect(_param(made, "Seed")).to_have_text(str(SEED))
    expect(_param(made, "Size")).to_have_text(re.compile(r"^\d+ × \d+ \(1:1\)$"))
    entry_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # The downloaded file carries the model, the seed and the prompt.
    href = page.get_by_role("link", name="Download image").get_attribute("href")
    assert href
    downloaded = page.request.get(href)
    assert downloaded.ok
    found = metadata.read(downloaded.body())
    assert found is not None
    assert (found.model, found.seed) == (case.model_id, SEED)
    assert found.prompt_data == _version_data(entry_id)
    assert found.prompt_data is not None and found.prompt_data["scene"] == scene
    assert scene in found.prompt_sent
    if case.paid:
        assert found.request_id
        expect(_param(made, "Request id")).to_have_text(found.request_id)
    else:
        expect(made.locator("dt", has_text="Request id")).to_have_count(0)
    shot(page, f"prompt-provider-{case.key}")


def test_a_provider_out_of_credit_says_so_on_the_image_and_refunds(
    page: Page, app_db: None, fake_together: FakeTogetherServer
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("link", name="Generate")).to_be_visible()
    prompt_id = saved_prompt(email, "A kite over dunes", title="Kite")
    page.goto(f"/generate?prompt={prompt_id}")
    pick(page, "Model", "FLUX.1 [schnell]")
    expect(page.get_by_label("Cost", exact=True)).to_have_text(re.compile(r"^[1-9]\d* credits$"))
    balance = _credits(page)
    fake_together.script(together_server.error(402, "Insufficient balance"))
    try:
        page.get_by_role("button", name="Generate", exact=True).click()
        image = page.locator(".generation-run").first.locator(".generated-image").first
        expect(image.get_by_label(re.compile(r"Image \d status"))).to_have_text(
            "Failed", timeout=IMAGES_TIMEOUT
        )
    finally:
        fake_together.script(together_server.ok())
    expect(image.get_by_role("alert")).to_contain_text("out of credit")
    expect(image.get_by_role("alert")).to_contain_text("Together AI")
    shot(page, "generate-provider-402")
    page.reload()
    expect(page.get_by_label("Balance", exact=True)).to_have_text(f"{balance} credits")

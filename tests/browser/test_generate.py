"""/generate as a creator uses it: open a saved prompt, pick a version, change the aspect and a
style preset (seeing its diff first), watch the cost and "What the model receives" follow,
generate with the offline layout preview and watch the images arrive, cancel a waiting run,
and reach the page from the analyzer's and the prompt page's "Generate" buttons."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db as app_db
from tests.utils.layout_checks import HEADER_WIDTHS, assert_fits
from tests.utils.prompt_factories import prompt_data

pytestmark = pytest.mark.browser
IMAGES_TIMEOUT = 60_000  # ms: the worker draws each preview; a busy 2-core machine is slow
OFFLINE = "Layout preview (not a generative model)"


def _user_id(email: str) -> int:
    from sqlmodel import select

    from app.services.core.db import session_scope
    from app.services.core.models import User

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.id is not None
        return user.id


def saved_prompt(email: str, *scenes: str, title: str = "Lighthouse") -> int:
    """A prompt of `email`'s with one version per scene (the last is current)."""
    from app.services.core.db import session_scope
    from app.services.library.writes import add_version, create_prompt

    owner = _user_id(email)
    with session_scope() as session:
        data = [_data(scene) for scene in scenes]
        prompt = create_prompt(session, owner_id=owner, title=title, data=data[0])
        for later in data[1:]:
            add_version(session, prompt_id=prompt.id or 0, data=later, author_id=owner)
        return prompt.id or 0


def take_all_credits(email: str) -> None:
    from app.services.billing import credits
    from app.services.core.db import session_scope
    from app.services.core.models import Role, User

    user_id = _user_id(email)
    with session_scope() as session:
        left = credits.balance(session, user_id=user_id)
        admin = User(email="admin@example.com", role=Role.admin.value)
        credits.revoke(session, user_id=user_id, amount=left, reason="Browser test: no credits",
                       actor=admin, idempotency_key=f"browser-generate-zero-{email}")  # fmt: skip


def score_first_image(email: str, *, gallery_prompt_id: int) -> None:
    """What the worker records after the round trip (scoring is another part's work): a
    score with its parts, and the gallery prompt the image became, on the first image."""
    from sqlmodel import col, select

    from app.services.core.db import session_scope
    from app.services.core.models import Generation, GenerationImage

    with session_scope() as session:
        image = session.exec(
            select(GenerationImage)
            .join(Generation, col(Generation.id) == col(GenerationImage.generation_id))
            .where(col(Generation.user_id) == _user_id(email))
            .order_by(col(GenerationImage.id))
        ).first()
        assert image is not None
        image.fidelity_score = 83
        image.fidelity_parts = [
            {"name": "palette", "label": "Colours", "score": 91, "weight": 0.3,
             "explanation": "ΔE 4.2 from the palette"},
        ]  # fmt: skip
        image.gallery_prompt_id = gallery_prompt_id
        session.add(image)


def _data(scene: str) -> dict[str, Any]:
    return prompt_data(
        scene,
        color_palette=[{"hex": "#1b2a49"}, {"hex": "#e8a33d"}],
        text_render=[{"text": "HOLD FAST", "position": "bottom center"}],
    )


def pick(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def sent(page: Page) -> Any:
    return page.get_by_label("What the model receives", exact=True)


def test_generate_from_a_saved_prompt_and_watch_the_images_arrive(page: Page, app_db: None) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("link", name="Generate")).to_be_visible()
    prompt_id = saved_prompt(email, "A lighthouse at dusk", "A lighthouse in a winter storm")
    page.goto(f"/generate?prompt={prompt_id}&version=1")

    expect(page.get_by_role("heading", name="Generate", exact=True)).to_be_visible()
    expect(page.get_by_text("Lighthouse", exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name="Version")).to_have_text("v1")
    expect(page.get_by_role("combobox", name="Saved prompt")).to_have_text(
        f"Lighthouse (#{prompt_id})"
    )
    expect(page.get_by_role("combobox", name="Model")).to_have_text(OFFLINE)
    expect(sent(page)).to_contain_text('"scene":"A lighthouse at dusk"')
    expect(page.get_by_label("Cost", exact=True)).to_have_text("Free")
    expect(page.get_by_label("Image size")).to_have_text("720 × 720 px")
    shot(page, "generate-saved-prompt")

    # Another version: what is sent follows, and the address names it for a reload.
    pick(page, "Version", "v2 (current)")
    expect(sent(page)).to_contain_text("winter storm")
    expect(page).to_have_url(re.compile(rf"/generate\?prompt={prompt_id}&version=2$"))

    # The aspect ratio changes the pixel size for this model and the composition sent.
    pick(page, "Aspect ratio", "16:9")
    expect(page.get_by_label("Image size")).to_have_text("960 × 544 px")
    expect(sent(page)).to_contain_text('"aspect_ratio":"16:9"')

    # A style preset shows its diff first; only "Apply preset" changes what is sent.
    pick(page, "Style preset", "style: Film noir")
    preview = page.get_by_label("Preset preview")
    expect(preview).to_contain_text("The preset would change:")
    expect(preview).to_contain_text("style.")
    shot(page, "generate-preset-diff")
    expect(sent(page)).not_to_contain_text("noir")
    preview.get_by_role("button", name="Apply preset").click()
    expect(preview).to_be_hidden()
    expect(sent(page)).to_contain_text("noir")
    expect(page.get_by_text("Applied: film-noir")).to_be_visible()

    # With every provider's key set (this app's), each model can be picked and none needs
    # explaining (a missing key's "(unavailable)" is covered by the state's tests).
    page.get_by_role("combobox", name="Model").click()
    expect(page.get_by_role("option", name="FLUX.1 [schnell]", exact=True)).not_to_have_attribute(
        "aria-disabled", "true"
    )
    expect(page.get_by_role("option", name=re.compile(r"\(unavailable\)$"))).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.get_by_text("Why some models can't be picked")).to_have_count(0)

    page.get_by_role("radio", name="2").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    run = page.locator(".generation-run").first
    expect(run).to_contain_text(OFFLINE)
    expect(run).to_contain_text("16:9 (960 × 544)")
    expect(run).to_contain_text("film-noir")
    # A second run can start while the first one works.
    page.get_by_role("radio", name="1").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator(".generation-run")).to_have_count(2)
    for index, count in ((0, 1), (1, 2)):
        card = page.locator(".generation-run").nth(index)
        expect(card.get_by_role("img")).to_have_count(count, timeout=IMAGES_TIMEOUT)
        expect(card.get_by_label(re.compile(r"Image \d status"))).to_have_text(
            ["Done"] * count, timeout=IMAGES_TIMEOUT
        )
    first = page.locator(".generation-run").nth(1)
    expect(first.locator(".generated-image").first).to_contain_text(re.compile(r"Seed \d+"))
    expect(first.locator(".generated-image").first).to_contain_text("960 × 544")
    expect(first.locator(".generated-image").first).to_contain_text("Cost: free")
    expect(first.get_by_role("link", name="Open image 1 full size")).to_have_attribute(
        "href", re.compile(r".+")
    )
    shot(page, "generate-done")

    # A reload loses nothing: the runs and their images come back from the database, with
    # the round trip's score and gallery entry once the worker has recorded them.
    score_first_image(email, gallery_prompt_id=prompt_id)
    page.reload()
    expect(page.locator(".generation-run")).to_have_count(2)
    expect(page.locator(".generation-run").nth(1).get_by_role("img")).to_have_count(2)
    scored = page.locator(".generation-run").nth(1).locator(".generated-image").first
    scored.get_by_text("Fidelity 83/100").click()
    expect(scored).to_contain_text("Colours: 91 · ΔE 4.2 from the palette")
    expect(scored.get_by_role("link", name="Open in gallery")).to_have_attribute(
        "href", f"/prompts/{prompt_id}"
    )
    shot(page, "generate-fidelity")
    expect(page.get_by_role("combobox", name="Version")).to_have_text("v2 (current)")


def test_bad_choices_say_what_is_wrong_beside_the_control_and_keep_what_was_typed(
    page: Page, app_db: None
) -> None:
    email = new_email()
    sign_up(page, email)
    prompt_id = saved_prompt(email, "A red kite over hills")
    page.goto(f"/generate?prompt={prompt_id}")
    expect(sent(page)).to_contain_text("red kite")

    pick(page, "Aspect ratio", "Custom…")
    page.get_by_label("Custom aspect ratio").fill("9:1")
    expect(page.locator(".error-aspect")).to_have_text(
        "9:1 is too stretched: aspect ratios from 1:4 to 4:1 work."
    )
    page.get_by_role("radio", name="Fixed").click()
    page.get_by_label("Seed value").fill("12abc")
    expect(page.locator(".error-seed")).to_contain_text("The seed must be a whole number")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_label("Custom aspect ratio")).to_have_value("9:1")
    expect(page.get_by_label("Seed value")).to_have_value("12abc")
    expect(page.get_by_text("No runs yet")).to_be_visible()
    expect(page.get_by_text("Fix the choices marked in red to see it.")).to_be_visible()
    shot(page, "generate-errors")

    page.get_by_label("Custom aspect ratio").fill("5:4")
    expect(page.locator(".error-aspect")).to_be_hidden()
    expect(page.get_by_label("Image size")).to_have_text("816 × 640 px")
    page.get_by_label("Seed value").fill("42")
    expect(page.locator(".error-seed")).to_be_hidden()
    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator(".generation-run").first
    expect(card.locator(".generated-image")).to_contain_text("Seed 42", timeout=IMAGES_TIMEOUT)

    # A paid model with no credits: the service's message, by the button, and nothing kept.
    take_all_credits(email)
    page.reload()
    pick(page, "Model", "Google Gemini 2.5 Flash Image")
    expect(page.get_by_label("Cost", exact=True)).to_contain_text("credits")
    expect(page.get_by_label("Balance", exact=True)).to_have_text("0 credits")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator(".error-run")).to_contain_text("credits")
    expect(page.locator(".generation-run")).to_have_count(1)


def test_a_waiting_run_shows_its_place_in_line_and_cancels(
    page: Page, app_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run the worker has not reached yet (here: queued while the queue was unreachable,
    so it waits until recovery): each image says its place, and Cancel stops them all."""
    from app.services.core.db import session_scope
    from app.services.core.models import User
    from app.services.generation import runs
    from app.settings import reset_settings

    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("link", name="Generate")).to_be_visible()
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens on port 9
    reset_settings()
    with session_scope() as session:
        user = session.get(User, _user_id(email))
        assert user is not None
        runs.start_generation(
            session, user=user, model="jsoncraft/layout-preview", prompt=_data("A quiet harbour"),
            n=3, aspect="1:1",
        )  # fmt: skip
    page.goto("/generate?prompt=999999&version=2")
    expect(page.locator(".error-source")).to_have_text(
        "That prompt doesn't exist, or it isn't shared with you."
    )
    page.goto("/generate")
    run = page.locator(".generation-run").first
    expect(run.get_by_label(re.compile(r"Image \d status"))).to_have_text(
        ["Queued · 1st in line", "Queued · 2nd in line", "Queued · 3rd in line"]
    )
    shot(page, "generate-queued")
    run.get_by_role("button", name=re.compile(r"Cancel run")).click()
    expect(run.get_by_label(re.compile(r"Image \d status"))).to_have_text(["Cancelled"] * 3)
    expect(run).to_contain_text("Cancelled")
    expect(run.get_by_role("button", name=re.compile(r"Cancel run"))).to_have_count(0)
    # Opened bare, the page offers the person's saved prompts.
    expect(page.get_by_text("You have no saved prompts yet.")).to_be_visible()
    prompt_id = saved_prompt(email, "A tin robot", title="Robot")
    page.reload()
    expect(page.get_by_text("Pick a prompt to see it here.")).to_be_visible()
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_disabled()
    pick(page, "Saved prompt", f"Robot (#{prompt_id})")
    expect(sent(page)).to_contain_text("A tin robot")
    expect(page).to_have_url(re.compile(rf"/generate\?prompt={prompt_id}&version=1$"))


def test_the_analyzer_and_the_prompt_page_open_generate(page: Page, app_db: None) -> None:
    from app.services.demo.images import demo_catalog, render_demo_png

    email = new_email()
    sign_up(page, email)
    poster = render_demo_png(next(s for s in demo_catalog() if "poster" in s.slug))
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": "poster.png", "mimeType": "image/png", "buffer": poster}]
    )
    generate = page.get_by_role("button", name="Generate", exact=True)
    expect(generate).to_be_enabled(timeout=60_000)  # once the answer is complete
    expect(page.get_by_text("writing…")).to_be_hidden()
    shot(page, "generate-analyzer-button")
    generate.click()
    expect(page).to_have_url(re.compile(r"/generate\?answer=\d+$"))
    expect(page.get_by_text("Analyzer answer")).to_be_visible()
    expect(sent(page)).to_contain_text("JSONCRAFT")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator(".generation-run").first.get_by_role("img")).to_have_count(
        1, timeout=IMAGES_TIMEOUT
    )
    page.reload()
    expect(sent(page)).to_contain_text("JSONCRAFT")

    prompt_id = saved_prompt(email, "A paper boat", "A paper boat on a puddle", title="Boat")
    page.goto(f"/prompts/{prompt_id}")
    expect(page.get_by_role("heading", name="Boat")).to_be_visible()
    shot(page, "generate-prompt-page-button")
    page.get_by_role("link", name="Generate").last.click()
    expect(page).to_have_url(re.compile(rf"/generate\?prompt={prompt_id}&version=2$"))
    expect(page.get_by_role("combobox", name="Version")).to_have_text("v2 (current)")
    expect(sent(page)).to_contain_text("on a puddle")


def test_narrow_window_and_dark_mode(page: Page, app_db: None, app_server: RunningApp) -> None:
    email = new_email()
    sign_up(page, email)
    prompt_id = saved_prompt(email, "A fox in snow")
    page.emulate_media(color_scheme="dark")
    page.goto(f"/generate?prompt={prompt_id}")
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(sent(page)).to_contain_text("fox in snow")
    shot(page, "generate-dark")
    for width in HEADER_WIDTHS:
        page.set_viewport_size({"width": width, "height": 844})
        expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible()
        assert_fits(page, width)
    shot(page, "generate-narrow-dark")
    page.emulate_media(color_scheme="light")
    shot(page, "generate-narrow")

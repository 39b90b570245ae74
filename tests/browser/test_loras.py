"""LoRA training as a creator does it: pick photos, name a trigger word, see the cost, train,
watch it go from sent to training to ready (Fal's fake calls the app's webhook), then a
training Fal fails, one cancelled, and a LoRA deleted; narrow and dark."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db, grant, shot  # noqa: F401 - app_db is a fixture
from tests.utils.fakes.fal_training_server import FakeFalTrainingServer

pytestmark = pytest.mark.browser
UPLOAD = "#lora-photos input[type=file]"
TRAINING_TIMEOUT = 60_000  # ms: a few fake-Fal steps, the worker's polls and the page's


@pytest.fixture
def fal(fake_fal: FakeFalTrainingServer) -> Iterator[FakeFalTrainingServer]:
    """Slow enough that each stage shows on the page; put back as it was after the test."""
    saved = (fake_fal.step_seconds, fake_fal.queue_positions, fake_fal.running_polls)
    fake_fal.step_seconds, fake_fal.queue_positions, fake_fal.running_polls = 2.5, [1, 0], 3
    yield fake_fal
    fake_fal.step_seconds, fake_fal.queue_positions, fake_fal.running_polls = saved
    fake_fal.finish, fake_fal.fail_with = True, None


def photo(n: int) -> bytes:
    image = Image.new("RGB", (320, 320), (30 + 40 * n % 200, 120, 200 - 20 * n % 180))
    ImageDraw.Draw(image).ellipse((80, 60, 240, 260), fill=(230, 190, 160))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def pick(page: Page, count: int, *, start: int = 0) -> None:
    files = [{"name": f"me-{n}.png", "mimeType": "image/png", "buffer": photo(n)}
             for n in range(start, start + count)]  # fmt: skip
    page.locator(UPLOAD).set_input_files(files=files)
    expect(page.get_by_label("Picked photos")).to_have_text(f"{count} files picked")


def train(page: Page, word: str) -> None:
    page.get_by_label("Trigger word").fill(word)
    page.get_by_role("button", name="Train", exact=True).click()


def card(page: Page, name: str) -> object:
    return page.locator(".lora-card").filter(has=page.get_by_role("heading", name=name))


def test_train_watch_fail_cancel_and_delete(
    page: Page,
    app_db: None,  # noqa: F811
    fal: FakeFalTrainingServer,
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    grant(email, 1000)
    page.get_by_role("link", name="LoRAs").first.click()
    expect(page.get_by_role("heading", name="LoRAs", exact=True)).to_be_visible()
    expect(page.get_by_text("No LoRAs yet")).to_be_visible()
    expect(page.get_by_label("Training cost")).to_contain_text("Costs 300 credits · you have 1000")
    shot(page, "loras-empty")

    pick(page, 3)
    train(page, "TOK")
    expect(page.get_by_role("alert")).to_contain_text("at least 4 photos; there are 3")
    expect(page.get_by_text("No LoRAs yet")).to_be_visible()  # nothing kept, nothing charged

    pick(page, 5)
    page.get_by_role("radio", name="Style").click()
    train(page, "TOK")
    tok = card(page, "TOK")
    expect(tok.get_by_label("Status of TOK")).to_have_text("Sent to Fal", timeout=TRAINING_TIMEOUT)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(tok).to_contain_text("5 photos · 1000 steps · 300 credits held")
    expect(tok.get_by_role("img")).to_have_count(4)
    expect(page.get_by_label("Credit balance")).to_contain_text("700")
    expect(page.get_by_label("Training cost")).to_contain_text("you have 700")
    shot(page, "loras-uploading")
    expect(tok.get_by_label("Status of TOK")).to_have_text("Training", timeout=TRAINING_TIMEOUT)
    shot(page, "loras-training")
    expect(tok.get_by_label("Status of TOK")).to_have_text("Ready", timeout=TRAINING_TIMEOUT)
    expect(tok).to_contain_text("300 credits")
    expect(tok.get_by_role("link", name="Weights (.safetensors)")).to_have_attribute(
        "href", re.compile(r"/pytorch_lora_weights\.safetensors$")
    )
    expect(tok).to_contain_text("Style")
    assert fal.webhook_replies and set(fal.webhook_replies) == {200}
    shot(page, "loras-done")

    fal.fail_with = "Not enough faces found in the images"
    pick(page, 4, start=10)
    page.get_by_role("radio", name="Subject").click()
    train(page, "ada_face")
    failed = card(page, "ada_face")
    expect(failed.get_by_label("Status of ada_face")).to_have_text(
        "Failed", timeout=TRAINING_TIMEOUT
    )
    expect(failed).to_contain_text("Not enough faces found in the images")
    expect(failed).to_contain_text("Refunded")
    shot(page, "loras-failed")
    fal.fail_with = None

    fal.finish = False
    pick(page, 4, start=20)
    train(page, "forever")
    stuck = card(page, "forever")
    expect(stuck.get_by_label("Status of forever")).to_have_text(
        re.compile("Sent to Fal|Training"), timeout=TRAINING_TIMEOUT
    )
    page.get_by_role("button", name="Cancel forever").click()
    expect(stuck.get_by_label("Status of forever")).to_have_text("Cancelled")
    expect(stuck).to_contain_text("Refunded")

    page.get_by_role("button", name="Delete TOK").click()
    expect(tok).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="ada_face")).to_be_visible()
    expect(page.get_by_role("heading", name="TOK")).to_have_count(0)

    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shot(page, "loras-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways when narrow ({width}px)"
    shot(page, "loras-narrow")


def test_generate_with_a_trained_lora(
    page: Page,
    app_db: None,  # noqa: F811
    fake_fal: FakeFalTrainingServer,
) -> None:
    """Train a LoRA, follow "Generate with this LoRA", see it picked with the model it needs and
    its cost, fix a wrong scale, generate and see the image arrive."""
    from tests.browser.test_generate import IMAGES_TIMEOUT, saved_prompt
    from tests.browser.test_generate import pick as choose

    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    grant(email, 1000)
    prompt_id = saved_prompt(email, "A red fox in snow", "A photo of TOK in snow", title="Fox")

    # Someone else's (or no) LoRA in the address: said beside the picker, the page still works.
    page.goto("/generate?lora=987654")
    expect(page.locator(".error-loras")).to_have_text("That LoRA doesn't exist, or it isn't yours.")
    expect(page.get_by_text("Your trained LoRAs appear here.")).to_be_visible()

    page.goto("/loras")
    expect(page.get_by_text("No LoRAs yet")).to_be_visible()  # loaded: a pick now stays
    pick(page, 4)
    train(page, "TOK")
    tok = card(page, "TOK")
    expect(tok.get_by_label("Status of TOK")).to_have_text("Ready", timeout=TRAINING_TIMEOUT)
    tok.get_by_role("link", name="Generate with this LoRA").click()

    expect(page).to_have_url(re.compile(r"/generate\?lora=\d+$"))
    picked = page.locator(".picked-lora")
    expect(picked).to_have_count(1)
    expect(picked).to_contain_text("TOK")
    expect(page.get_by_label("Scale for TOK")).to_have_value("1")
    expect(page.get_by_label("LoRA model")).to_contain_text(
        re.compile(r"Runs on FLUX\.1 \[dev\] with LoRAs \(fal-ai/flux-lora\) · \d+ credits per im")
    )
    model = page.get_by_role("combobox", name="Model")
    expect(model).to_be_disabled()
    expect(model).to_have_text("FLUX.1 [dev] with LoRAs on Fal")

    choose(page, "Saved prompt", f"Fox (#{prompt_id})")
    expect(page.get_by_label("What the model receives", exact=True)).to_contain_text("TOK in snow")
    expect(page.get_by_label("Trigger word reminder")).to_have_count(0)
    expect(page.get_by_label("Cost", exact=True)).to_contain_text("credits")
    choose(page, "Version", "v1")  # the earlier version lacks the trigger word: say so
    expect(page.get_by_label("Trigger word reminder")).to_contain_text(
        "Your prompt lacks the trigger word TOK"
    )
    choose(page, "Version", "v2 (current)")
    expect(page.get_by_label("Trigger word reminder")).to_have_count(0)

    # A wrong scale: said beside the picker; Generate starts nothing and keeps what was typed.
    page.get_by_label("Scale for TOK").fill("2.5")
    expect(page.locator(".error-loras")).to_have_text(
        "TOK: A LoRA's scale is a number from 0 to 2."
    )
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_label("Scale for TOK")).to_have_value("2.5")
    expect(page.locator(".generation-run")).to_have_count(0)
    shot(page, "generate-lora-picker-error")

    page.get_by_label("Scale for TOK").fill("0.8")
    expect(page.locator(".error-loras")).to_be_hidden()
    shot(page, "generate-lora-picker")
    page.get_by_role("button", name="Generate", exact=True).click()
    run = page.locator(".generation-run").first
    expect(run).to_contain_text("FLUX.1 [dev] with LoRAs")
    expect(run.get_by_role("img")).to_have_count(1, timeout=IMAGES_TIMEOUT)
    expect(run.get_by_label("Image 1 status")).to_have_text("Done", timeout=IMAGES_TIMEOUT)
    sent = [r.body for r in fake_fal.requests
            if r.method == "POST" and r.path.split("?")[0] == "/fal-ai/flux-lora"]  # fmt: skip
    assert sent and sent[-1]["loras"][0]["scale"] == 0.8
    assert sent[-1]["loras"][0]["path"].endswith("/pytorch_lora_weights.safetensors")

    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shot(page, "generate-lora-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_label("Scale for TOK")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways when narrow ({width}px)"
    shot(page, "generate-lora-narrow")

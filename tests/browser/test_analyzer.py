"""The analyzer, as a person uses it: drop an image, watch fields stream in, refine, save."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db as app_db
from tests.browser.test_studio import grant
from tests.utils.fakes.openai_server import FakeOpenAIServer
from tests.utils.images import jpeg_bytes, png_bomb, truncated_jpeg

pytestmark = pytest.mark.browser


def _drop(page: Page, name: str, mime: str, data: bytes) -> None:
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def _poster_png() -> bytes:
    from app.services.demo.images import demo_catalog, render_demo_png

    return render_demo_png(next(s for s in demo_catalog() if "poster" in s.slug))


def test_upload_streams_fields_then_refine_diff_and_save(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("heading", name="Turn an image into a JSON prompt")).to_be_visible()
    expect(page.get_by_label("Cost per request")).to_contain_text("Free")

    # Record, in the page, the order in which field cards appear while the answer streams.
    page.evaluate(
        """() => {
        window.__fieldsSeen = [];
        window.__streamingAtFirstField = null;
        new MutationObserver(() => {
          document.querySelectorAll('.field-card').forEach(el => {
            const f = el.getAttribute('data-field');
            if (window.__fieldsSeen.includes(f)) return;
            window.__fieldsSeen.push(f);
            if (window.__streamingAtFirstField === null) {
              window.__streamingAtFirstField = document.body.innerText.includes('writing…');
            }
          });
        }).observe(document.body, {subtree: true, childList: true});
    }"""
    )
    _drop(page, "poster.png", "image/png", _poster_png())
    expect(page.locator(".user-turn").get_by_text("poster.png")).to_be_visible()
    expect(page.get_by_text("writing…")).to_be_visible()
    expect(page.locator(".field-card").first).to_be_visible()
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)
    seen = page.evaluate("window.__fieldsSeen")
    assert seen[0] == "color_palette", seen  # palette is measured first and shown first
    assert len(seen) >= 8
    assert page.evaluate("window.__streamingAtFirstField") is True  # cards came before the end

    answer = page.locator(".assistant-turn").last
    expect(answer.locator(".field-card[data-field=text_render]")).to_contain_text("JSONCRAFT")
    answer.get_by_text("Reasoning").click()
    expect(answer.get_by_text("Measured", exact=False).first).to_be_visible()
    answer.get_by_role("tab", name="JSON").click()
    expect(answer.locator(".json-view")).to_contain_text('"schema_version": "1.0"')
    shot(page, "analyzer-result")

    page.get_by_label("Message").fill("make it night, 35mm film look")
    page.get_by_role("button", name="Send").click()
    refined = page.locator(".assistant-turn").nth(1)
    expect(refined.get_by_label("Changes")).to_contain_text("lighting.conditions", timeout=30_000)
    expect(refined.get_by_label("Changes")).to_contain_text("camera.lens")
    shot(page, "analyzer-refined")

    page.get_by_role("button", name="Save to gallery").click()
    expect(page.get_by_text("Saved to the gallery (version 1).")).to_be_visible()
    page.get_by_role("link", name="Gallery").first.click()
    expect(page.get_by_role("heading", name="poster.png")).to_be_visible()


def test_bad_files_get_a_clear_message_and_nothing_starts(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("heading", name="Turn an image into a JSON prompt")).to_be_visible()
    cases = [
        (
            "notes.jpg",
            "image/jpeg",
            b"just some text, not a picture at all\n" * 20,
            "not a supported image",
        ),
        ("empty.png", "image/png", b"", "empty"),
        ("cut.jpg", "image/jpeg", truncated_jpeg(), "truncated"),
        ("bomb.png", "image/png", png_bomb(), "20000"),
    ]
    for name, mime, data, fragment in cases:
        _drop(page, name, mime, data)
        expect(page.get_by_role("alert")).to_contain_text(
            re.compile(f"{re.escape(name)}.*{fragment}")
        )
    expect(page.locator(".assistant-turn")).to_have_count(0)
    shot(page, "analyzer-bad-file")
    _drop(page, "fine.jpg", "image/jpeg", jpeg_bytes((900, 600)))
    expect(page.locator(".user-turn").get_by_text("fine.jpg")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


@pytest.mark.usefixtures("app_db")
def test_text_typed_right_before_a_drop_goes_with_the_image(
    page: Page, fake_openrouter: FakeOpenAIServer
) -> None:
    """No pause between typing and dropping: the box has not told the server about the text
    yet when the image arrives, and the text must still reach the model."""
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    grant(email, 3)
    page.reload()
    page.get_by_label("Model").click()
    page.get_by_role("option", name="NVIDIA Nemotron").click()
    expect(page.get_by_label("Cost per request")).to_contain_text("1 credit")
    instructions = 'keep the "dusk" colours 🌅 <b>&amp;</b>'
    sent_before = len(fake_openrouter.requests)
    page.get_by_label("Message").fill(instructions)
    _drop(page, "poster.png", "image/png", _poster_png())
    expect(page.locator(".assistant-turn").last.locator(".field-card").first).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)
    asked = [
        str(message.get("content"))
        for request in fake_openrouter.requests[sent_before:]
        for message in request.body["messages"]
    ]
    assert any(f"Extra instructions from the user: {instructions}" in a for a in asked), asked
    # The text went with the image: the box empties, as it does after a slower drop.
    expect(page.get_by_label("Message")).to_have_value("")

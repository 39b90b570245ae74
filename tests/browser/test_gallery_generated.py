"""Generated images in the gallery: the card's model label, the origin filter, the prompt page's
round trip (how it was made, fidelity, the link back), download and re-import.

Images are generated with the offline layout preview through the generation service; the job
worker beside the app makes them, as in production.
"""

from __future__ import annotations

import io
import json
import re
import struct
import time
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import new_email, sign_up

pytestmark = pytest.mark.browser

WORKER_TIMEOUT = 120.0  # the worker polls its queue; a busy 2-core machine is slow


@pytest.fixture
def app_db(app_server: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Services in this process use the running app's database and queue."""
    from app.settings import reset_settings

    monkeypatch.setenv("DATA_DIR", str(app_server.data_dir))
    reset_settings()
    yield
    reset_settings()


def _user_id(email: str) -> int:
    from sqlmodel import select

    from app.services.core.db import session_scope
    from app.services.core.models import User

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.id is not None
        return user.id


def generate_from_new_prompt(email: str, title: str, n: int) -> tuple[int, int]:
    """A saved prompt of the person's, and a finished offline run from it: (prompt, run)."""
    from app.services.core.db import session_scope
    from app.services.core.models import User
    from app.services.generation import runs
    from app.services.generation.render import OFFLINE_MODEL_ID
    from app.services.library.writes import create_prompt

    data = {
        "schema_version": "1.0",
        "scene": f"{title}: fishing boats in a harbour at dusk",
        "subjects": [{"description": "a red fishing boat", "position": "center"}],
        "style": {"medium": "illustration"},
        "color_palette": [{"hex": "#1b2a49"}, {"hex": "#e8a33d"}, {"hex": "#c0392b"}],
        "lighting": {},
        "composition": {},
    }
    user_id = _user_id(email)
    with session_scope() as session:
        prompt = create_prompt(session, owner_id=user_id, title=title, data=data)
        session.commit()
        assert prompt.id is not None
        prompt_id = prompt.id
        user = session.get(User, user_id)
        assert user is not None
        started = runs.start_generation(
            session, user=user, model=OFFLINE_MODEL_ID, prompt_id=prompt_id, n=n, seed=5,
            aspect="4:3",
        )  # fmt: skip
    _wait_until_finished(user_id, started.id)
    return prompt_id, started.id


def _wait_until_finished(user_id: int, generation_id: int) -> None:
    """Polls the run's row (the worker in another process makes the images)."""
    from app.services.core.db import session_scope
    from app.services.core.models import User
    from app.services.generation import runs

    deadline = time.monotonic() + WORKER_TIMEOUT
    while True:
        with session_scope() as session:
            user = session.get(User, user_id)
            assert user is not None
            view = runs.get_generation(session, user=user, generation_id=generation_id)
        if view.status in ("done", "failed", "cancelled"):
            assert view.status == "done", view
            return
        if time.monotonic() > deadline:
            pytest.fail(f"generation {generation_id} still {view.status} after the timeout")
        time.sleep(0.2)


def _version_data(prompt_id: int) -> dict[str, object]:
    from app.services.core.db import session_scope
    from app.services.core.models import Prompt, PromptVersion

    with session_scope() as session:
        prompt = session.get(Prompt, prompt_id)
        assert prompt is not None
        version = session.get(PromptVersion, prompt.current_version_id)
        assert version is not None
        return dict(version.data)


def _entry_file(prompt_id: int) -> bytes:
    """The stored file of a gallery entry: what its download serves."""
    from app.services.core.db import session_scope
    from app.services.core.models import Asset, Prompt
    from app.services.core.storage import get_storage

    with session_scope() as session:
        prompt = session.get(Prompt, prompt_id)
        assert prompt is not None
        asset = session.get(Asset, prompt.asset_id)
        assert asset is not None
        key = asset.storage_key
    return get_storage().read_bytes(key)


def _drop(page: Page, name: str, data: bytes) -> None:
    page.locator("#analyzer-upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "image/png", "buffer": data}]
    )


def test_generated_images_in_the_gallery_prompt_page_download_and_reimport(
    page: Page, app_db: None
) -> None:
    from app.services.generation import metadata

    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    title = f"Harbour {abs(hash(email)) % 10_000}"
    source_id, run_id = generate_from_new_prompt(email, title, n=2)

    # The gallery: generated cards say which model made them; the origin filter splits them.
    page.goto("/gallery")
    cards = page.locator(".prompt-card")
    expect(cards.first).to_be_visible()
    page.get_by_label("Search", exact=True).fill(title)
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(3)  # the source and its two images
    page.get_by_label("Origin").select_option("generated")
    expect(cards).to_have_count(2)
    for i in range(2):
        expect(cards.nth(i)).to_contain_text("Generated · Layout preview")
    expect(cards.first).to_contain_text(f"{title} · Layout preview · 2/2")
    shot(page, "gallery-generated-cards")
    page.get_by_label("Origin").select_option("analyzed")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Analyzed")
    expect(cards.first).not_to_contain_text("Generated")
    shot(page, "gallery-analyzed-filter")
    page.get_by_label("Origin").select_option("")
    expect(cards).to_have_count(3)
    # The model filter covers the model that made an image.
    page.get_by_label("Filter by model").fill("jsoncraft/layout-preview")
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(2)
    page.get_by_label("Filter by model").fill("")
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(3)

    # The prompt page of an image: how it was made, its fidelity, and the link back.
    page.get_by_label("Origin").select_option("generated")
    expect(cards).to_have_count(2)
    cards.last.locator("h3").click()
    made = page.get_by_label("How this image was made")
    expect(made).to_contain_text("Generated · Layout preview")
    expect(made).to_contain_text("offline")
    expect(made).to_contain_text("Seed")
    expect(made).to_contain_text("5")
    expect(made.get_by_text(re.compile(r"^\d{1,3} / 100$"))).to_be_visible()
    parts = page.get_by_label("Fidelity parts")
    expect(parts).to_contain_text("Colours")
    expect(parts).to_contain_text("Aspect ratio")
    made.get_by_text("How the fidelity score is computed").click()
    expect(made).to_contain_text("CIEDE2000")
    shot(page, "prompt-generated")
    entry_url = page.url
    entry_id = int(entry_url.rstrip("/").rsplit("/", 1)[1])

    # The download serves the file with its details inside.
    href = page.get_by_role("link", name="Download image").get_attribute("href")
    assert href
    downloaded = page.request.get(href)
    assert downloaded.ok
    assert "attachment" in downloaded.headers.get("content-disposition", "")
    found = metadata.read(downloaded.body())
    assert found is not None and found.seed == 5 and found.prompt_data == _version_data(entry_id)

    # Back to the source: each version with its images and their average fidelity.
    made.get_by_role("link", name=f"{title} v1").click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    versions = page.get_by_label("Generated from this prompt")
    expect(versions).to_contain_text("Average fidelity")
    expect(versions).to_contain_text("over 2 scored image(s)")
    expect(versions.get_by_label("Images of version 1").get_by_role("link")).to_have_count(2)
    shot(page, "prompt-source-versions")
    assert source_id and run_id

    # Dropping the downloaded file into the analyzer restores its JSON, with no analysis.
    page.goto("/")
    _drop(page, "downloaded.png", downloaded.body())
    expect(page.get_by_text("Made with JSONCraft: Layout preview, seed 5")).to_be_visible()
    expect(page.locator(".assistant-turn")).to_have_count(0)  # nothing was analysed
    shot(page, "analyzer-generated-file")
    page.get_by_role("button", name="Restore its JSON prompt").click()
    expect(page.get_by_role("heading", name="Restored · Layout preview · seed 5")).to_be_visible()
    restored_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert restored_id != entry_id
    assert _version_data(restored_id) == _version_data(entry_id)


def test_dark_and_narrow(page: Page, app_db: None) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    title = f"Quay {abs(hash(email)) % 10_000}"
    generate_from_new_prompt(email, title, n=1)
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/gallery")
    page.get_by_label("Search", exact=True).fill(title)
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Origin").select_option("generated")
    cards = page.locator(".prompt-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Generated · Layout preview")
    shot(page, "gallery-generated-dark-narrow")
    cards.first.locator("h3").click()
    expect(page.get_by_label("How this image was made")).to_contain_text("Made from")
    page_id = page.url.rstrip("/").rsplit("/", 1)[1]
    shot(page, "prompt-generated-dark-narrow")

    # A generated file can still be analysed like any image, when the person asks.
    page.goto("/")
    _drop(page, "quay.png", _entry_file(int(page_id)))
    expect(page.get_by_text("Made with JSONCraft: Layout preview, seed 5")).to_be_visible()
    page.get_by_role("button", name="Analyze it anyway").click()
    expect(page.locator(".assistant-turn .field-card").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Made with JSONCraft")).to_have_count(0)


def _forged(payload: bytes) -> bytes:
    """A real PNG carrying an iTXt chunk under JSONCraft's keyword with `payload` inside."""
    from app.services.generation import metadata

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "PNG")
    image = buf.getvalue()
    data = metadata.PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + payload
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    end = image.rindex(b"IEND") - 4
    return image[:end] + chunk + image[end:]


def test_forged_details_are_ignored_and_the_image_is_analysed(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    forged = json.dumps(
        {"format": "jsoncraft.generation", "version": 1, "provider": "x", "model": "<script>",
         "width": "wide", "height": -1, "prompt_format": "json", "prompt_sent": "{}"}
    ).encode()  # fmt: skip
    page.goto("/")
    _drop(page, "forged.png", _forged(forged))
    expect(page.locator(".user-turn").get_by_text("forged.png")).to_be_visible()
    expect(page.locator(".assistant-turn .field-card").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Made with JSONCraft")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)

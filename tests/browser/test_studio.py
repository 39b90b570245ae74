"""The image studio as a batch user works in it: pick images, tick operations, see the cost,
run, watch each item, reload, download the zip, send a result to the analyzer."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp
from tests.browser.conftest import shot as full_shot
from tests.browser.test_shell import new_email, sign_up
from tests.utils.images import truncated_jpeg

pytestmark = pytest.mark.browser
UPLOAD = "#studio-upload input[type=file]"
JOB_TIMEOUT = 120_000  # ms: five OCR passes on a 2-core machine, with room to spare


@pytest.fixture
def app_db(app_server: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Services in this process use the running app's database (to grant credits, read prices)."""
    from app.settings import reset_settings

    monkeypatch.setenv("DATA_DIR", str(app_server.data_dir))
    reset_settings()
    yield
    reset_settings()


def grant(email: str, amount: int) -> None:
    """Leave the account with exactly `amount` credits: its sign-up credits are taken back."""
    from sqlmodel import select

    from app.services.billing import credits
    from app.services.core.db import session_scope
    from app.services.core.models import Role, User

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.id is not None
        admin = User(email="admin@example.com", role=Role.admin.value)
        credits.revoke(
            session,
            user_id=user.id,
            amount=credits.balance(session, user_id=user.id),
            reason="Browser test: start from zero",
            actor=admin,
            idempotency_key=f"browser-studio-zero-{email}",
        )
        credits.grant(
            session,
            user_id=user.id,
            amount=amount,
            reason="Browser test",
            actor=admin,
            idempotency_key=f"browser-studio-{email}",
        )


def expected_cost(raw_spec: dict[str, object], count: int) -> tuple[int, int]:
    from app.services.core.db import session_scope
    from app.services.studio.imageops.spec import parse_spec
    from app.services.studio.jobs import estimate_cost

    with session_scope() as session:
        preview = estimate_cost(session, spec=parse_spec(raw_spec), count=count)
    return preview.now_total, preview.batch_total


def photo(n: int, fmt: str) -> bytes:
    """A 1200 x 800 image with a big word on it, so OCR has something to read."""
    image = Image.new("RGB", (1200, 800), (240, 236, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 560, 1200, 800), fill=(40 + 30 * n, 90, 160))
    draw.text((80, 200), f"STUDIO {n}", fill=(20, 20, 20), font=ImageFont.load_default(size=150))
    buf = io.BytesIO()
    image.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def pick(page: Page, files: list[tuple[str, bytes]]) -> None:
    page.locator(UPLOAD).set_input_files(
        files=[
            {
                "name": name,
                "mimeType": "image/png" if name.endswith(".png") else "image/jpeg",
                "buffer": data,
            }
            for name, data in files
        ]
    )


def shot(page: Page, name: str) -> None:
    # From the top: a full-page capture of a scrolled page paints the sticky header mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    full_shot(page, name)


def tick(page: Page, name: str) -> None:
    box = page.get_by_role("checkbox", name=name, exact=True)
    box.click()
    expect(box).to_be_checked()


def job_card(page: Page) -> object:
    return page.locator(".studio-job").first


def test_batch_with_cost_progress_reload_zip_and_analyzer(
    page: Page, app_db: None, tmp_path: Path
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    grant(email, 8)
    page.get_by_role("link", name="Studio").first.click()
    expect(page.get_by_role("heading", name="Studio", exact=True)).to_be_visible()
    expect(page.get_by_text("No jobs yet")).to_be_visible()
    run = page.get_by_role("button", name=re.compile("^Run now"))
    expect(run).to_be_disabled()
    expect(page.get_by_label("Why Run is disabled")).to_contain_text("Add images")
    shot(page, "studio-empty")

    names = [f"photo{n}.{'png' if n % 2 else 'jpg'}" for n in range(1, 6)]
    pick(page, [(name, photo(n, "PNG" if n % 2 else "JPEG")) for n, name in enumerate(names, 1)])
    expect(page.get_by_label("Picked files summary")).to_contain_text("5 images · 5 files")
    expect(page.get_by_label("Why Run is disabled")).to_contain_text("Tick at least one")

    tick(page, "Resize")
    page.get_by_label("Long edge (px)").fill("640")
    tick(page, "Convert")
    page.get_by_role("radio", name="WebP").click()
    tick(page, "OCR (read text)")
    now, batch = expected_cost(
        {"resize": {"long_edge": 640}, "convert": {"format": "webp"}, "ocr": True}, 5
    )
    assert now > batch > 0
    cost = page.get_by_label("Cost preview")
    expect(cost).to_contain_text("Text recognition (OCR)")
    expect(cost.get_by_role("radio", name="Run now")).to_contain_text(f"{now} credits")
    expect(cost.get_by_role("radio", name="Batch later")).to_contain_text(f"{batch} credits")
    expect(cost).to_contain_text("8 credits")  # the balance

    # Background removal costs more than the balance, and JPEG can't hold its transparency.
    tick(page, "Remove background")
    expect(page.get_by_label("Why Run is disabled")).to_contain_text("you have 8")
    page.get_by_role("radio", name="JPEG").click()
    expect(page.get_by_label("Operation settings problem")).to_contain_text(
        "JPEG has no transparency"
    )
    page.get_by_role("radio", name="WebP").click()
    page.get_by_role("checkbox", name="Remove background", exact=True).click()
    expect(page.get_by_label("Operation settings problem")).to_have_count(0)
    expect(run).to_be_enabled()
    expect(run).to_have_text(f"Run now · {now} credits")
    shot(page, "studio-files-cost")

    run.click()
    expect(page.get_by_text(re.compile(r"Started job #\d+ for 5 images"))).to_be_visible(
        timeout=30_000
    )
    card = job_card(page)
    expect(card.locator(".studio-item")).to_have_count(5)
    expect(page.get_by_label("Picked files summary")).to_have_count(0)  # the pick list emptied
    shot(page, "studio-running")

    page.reload()  # the job and its items survive a reload, and keep updating
    card = job_card(page)
    expect(card.locator(".studio-item")).to_have_count(5)
    expect(card.locator(".studio-item[data-status=done]")).to_have_count(5, timeout=JOB_TIMEOUT)
    expect(card).to_have_attribute("data-status", "done")
    expect(card.get_by_label("Job counts")).to_contain_text("5 of 5 done")
    expect(page.get_by_label("Credit balance")).to_have_text(re.compile(rf"^{8 - now}\s*credits$"))
    shot(page, "studio-done")

    with page.expect_download() as download_info:
        card.get_by_role("link", name="Download zip").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    path = tmp_path / "job.zip"
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        entries = archive.namelist()
        webps = sorted(n for n in entries if n.endswith(".webp"))
        assert webps == [f"photo{n}.webp" for n in range(1, 6)], entries
        for name in webps:
            with Image.open(io.BytesIO(archive.read(name))) as image:
                assert image.format == "WEBP"
                assert image.size == (640, 427), (name, image.size)
        texts = sorted(n for n in entries if n.endswith(".ocr.txt"))
        assert texts == [f"photo{n}.ocr.txt" for n in range(1, 6)], entries
        assert sum(1 for n in entries if n.endswith(".ocr.json")) == 5
        read = archive.read("photo3.ocr.txt").decode()
        assert "STUDIO" in read.upper(), read

    card.get_by_role("button", name="Send photo2.webp to the analyzer").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".user-turn").get_by_text("photo2.webp")).to_be_visible()
    expect(page.locator(".assistant-turn").first).to_be_visible()
    expect(page.get_by_text("writing…")).to_be_hidden(timeout=60_000)
    page.reload()  # the query is gone: a reload starts no second conversation
    history = page.get_by_label("Conversation history")
    expect(history.get_by_text("photo2.webp")).to_have_count(1)


def test_a_broken_file_fails_alone_and_the_page_fits_narrow_and_dark(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/studio")
    expect(page.get_by_text("No jobs yet")).to_be_visible()
    pick(
        page,
        [
            ("good1.jpg", photo(1, "JPEG")),
            ("broken.jpg", truncated_jpeg()),
            ("good2.png", photo(2, "PNG")),
        ],
    )
    expect(page.get_by_label("Picked files summary")).to_contain_text("3 images")
    page.get_by_role("button", name="Remove good2.png").click()
    expect(page.get_by_label("Picked files summary")).to_contain_text("2 images · 2 files")
    pick(page, [("good2.png", photo(2, "PNG"))])
    tick(page, "Resize")
    page.get_by_label("Long edge (px)").fill("")
    expect(page.get_by_label("Operation settings problem")).to_contain_text("resize.long_edge")
    page.get_by_label("Long edge (px)").fill("300")
    tick(page, "Thumbnails")
    cost = page.get_by_label("Cost preview")
    expect(cost.get_by_role("radio", name="Run now")).to_contain_text("Free")
    run = page.get_by_role("button", name="Run now · Free")
    expect(run).to_be_enabled()
    run.click()

    card = job_card(page)
    broken = card.get_by_label("Item broken.jpg")
    expect(broken).to_have_attribute("data-status", "failed", timeout=JOB_TIMEOUT)
    expect(broken).to_contain_text("truncated")
    expect(card.locator(".studio-item[data-status=done]")).to_have_count(2, timeout=JOB_TIMEOUT)
    expect(card.get_by_text("Done · 1 failed", exact=True)).to_be_visible()
    expect(card.get_by_role("link", name="Download good1_thumb_256.jpg")).to_be_visible()
    shot(page, "studio-done-with-failure")

    card.get_by_role("button", name="Send good1.jpg to the gallery").click()
    expect(page.get_by_text("good1.jpg is in the gallery")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Gallery").first.click()
    expect(page.get_by_role("heading", name="good1.jpg")).to_be_visible()
    page.go_back()
    card = job_card(page)
    expect(card.get_by_label("Item broken.jpg")).to_contain_text("truncated")

    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shot(page, "studio-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Open navigation")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"
    shot(page, "studio-narrow")


def test_signed_out_visitors_are_asked_to_sign_in(page: Page) -> None:
    page.goto("/studio")
    expect(page.get_by_role("heading", name="Sign in to use the studio")).to_be_visible()
    page.get_by_role("link", name="Sign in").last.click()
    expect(page).to_have_url(re.compile(r"/login/?\?next=/studio"))


def test_cancel_a_running_job_keeps_what_is_done_and_refunds_the_rest(
    page: Page, app_db: None
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    grant(email, 20)
    page.goto("/studio")
    expect(page.get_by_text("No jobs yet")).to_be_visible()
    pick(page, [(f"cut{n}.png", photo(n, "PNG")) for n in range(1, 11)])
    expect(page.get_by_label("Picked files summary")).to_contain_text("10 images")
    tick(page, "Remove background")  # GrabCut: seconds per image, so the job is still running
    expect(page.get_by_role("radio", name="Run now")).to_contain_text("20 credits")
    page.get_by_role("button", name="Run now · 20 credits").click()

    card = job_card(page)
    expect(card).to_have_attribute("data-status", "running", timeout=JOB_TIMEOUT)
    shot(page, "studio-running-background-removal")
    cancel = card.get_by_role("button", name="Cancel")
    cancel.click()
    expect(card).to_have_attribute("data-status", "cancelled", timeout=JOB_TIMEOUT)
    expect(card.get_by_text("Cancelled", exact=True).first).to_be_visible()
    cancelled = card.locator(".studio-item[data-status=cancelled]")
    expect(cancelled.first).to_be_visible()
    done = card.locator(".studio-item[data-status=done]").count()
    assert cancelled.count() + done == 10
    charged = 2 * done
    expect(card).to_contain_text(f"{charged} of 20 credits charged")
    expect(page.get_by_label("Credit balance")).to_have_text(
        re.compile(rf"^{20 - charged}\s*credits$")
    )
    expect(cancel).to_have_count(0)

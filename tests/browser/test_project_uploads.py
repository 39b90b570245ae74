"""A project's Uploads tab as its owner uses it: drop files on the test uploader, watch them
arrive in the log, filter it, page through it, delete a file. Nobody else sees it."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import RunningApp
from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db, shot  # noqa: F401 - app_db is a fixture

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
DROP = "jsoncraft-upload input[type=file]"  # Playwright's CSS reaches into the open shadow root
# Every state text and progress value the element shows, in order, recorded in the page.
RECORD_ELEMENT = """() => {
  window.__seen = [];
  const root = document.querySelector("jsoncraft-upload").shadowRoot;
  new MutationObserver((changes) => {
    for (const c of changes) {
      const el = c.target.nodeType === 3 ? c.target.parentElement : c.target;
      if (el.matches("progress")) window.__seen.push("progress " + el.getAttribute("value"));
      else if (el.closest(".state")) window.__seen.push(el.closest(".state").textContent);
    }
  }).observe(root, {subtree: true, childList: true, characterData: true, attributes: true,
                    attributeFilter: ["value"]});
}"""


def png(color: tuple[int, int, int] = (220, 60, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def new_project(email: str, name: str = "Site") -> int:
    """The account's project with one secret key, as the projects page creates them."""
    from sqlmodel import select

    from app.services.accounts.api_keys import create_key
    from app.services.core.db import session_scope
    from app.services.core.models import User

    with session_scope() as session:
        owner = session.exec(select(User).where(User.email == email)).one()
        return create_key(session, owner=owner, project_name=name).project_id


def seed_uploads(project_id: int, files: list[tuple[str, bytes, str]]) -> list[str]:
    """Through the real presign and complete, with the bytes where the PUT would put them."""
    from app.services.accounts.api_keys import KeyAuth
    from app.services.core.db import session_scope
    from app.services.core.storage import get_storage
    from app.services.uploads.complete import complete_upload
    from app.services.uploads.presign import FileRequest, presign_uploads

    ids = []
    with session_scope() as session:
        auth = KeyAuth(project_id, 0, frozenset({"upload"}))
        for name, data, kind in files:
            (item,) = presign_uploads(session, auth, [FileRequest(name, len(data), kind)])
            get_storage().put_bytes(item.key, data, content_type=kind)
            ids.append(complete_upload(session, auth, item.id).id)
    return ids


def upload_row(page: Page, name: str) -> Locator:
    return page.get_by_role("listitem", name=f"Upload {name}", exact=True)


def drop(page: Page, name: str, data: bytes, mime: str = "image/png") -> None:
    page.locator(DROP).set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_upload_see_it_in_the_log_filter_and_delete(
    page: Page,
    app_server: RunningApp,
    app_db: None,  # noqa: F811 - the fixture imported above
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = new_project(email)
    page.goto(f"/projects/{project_id}/uploads")
    expect(page.get_by_role("heading", name="Site", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Uploads", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", name="No uploads yet")).to_be_visible()
    docs = page.get_by_role("link", name="Read the upload docs")
    expect(docs).to_have_attribute("href", "/docs/uploads")
    shot(page, "project-uploads-empty")

    page.locator("jsoncraft-upload").wait_for()
    expect(page.get_by_role("button", name="Choose files")).to_be_visible()
    page.evaluate(RECORD_ELEMENT)
    drop(page, "photo.png", png())
    element = page.locator("jsoncraft-upload")
    expect(element.locator("li")).to_contain_text("photo.png")
    expect(element.locator(".state")).to_have_text("Uploaded")
    expect(element.locator("progress")).to_have_attribute("value", "1")
    seen: list[str] = page.evaluate("window.__seen")
    assert seen.index("Uploading…") < seen.index("progress 1") < seen.index("Uploaded"), seen
    assert "Checking…" in seen, seen

    row = upload_row(page, "photo.png")  # the log refreshed by itself
    expect(row).to_contain_text("Ready")
    expect(row).to_contain_text("image/png")
    expect(row).to_contain_text(f"{len(png())} bytes")
    expect(row).not_to_contain_text("Clean")  # nothing scanned it
    expect(row.get_by_role("link", name="Download photo.png")).to_have_attribute(
        "href", re.compile(r"/api/files/p/\d+/up_\w+/photo\.png\?.*sig=")
    )
    expect(page.get_by_role("heading", name="No uploads yet")).to_be_hidden()

    drop(page, "fake.png", PDF)  # a .png name with PDF bytes
    reason = "The file's bytes are application/pdf, not image/png as declared."
    expect(element.locator(".state")).to_have_text(f"Rejected: {reason}")
    fake = upload_row(page, "fake.png")
    expect(fake).to_contain_text("Rejected")
    expect(fake).to_contain_text(reason)
    expect(fake.get_by_role("link", name="Download fake.png")).to_have_count(0)
    expect(page.get_by_role("listitem", name=re.compile("^Upload "))).to_have_count(2)
    shot(page, "project-uploads-rows")

    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Rejected").click()
    expect(upload_row(page, "photo.png")).to_be_hidden()
    expect(upload_row(page, "fake.png")).to_be_visible()
    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Ready").click()
    expect(upload_row(page, "fake.png")).to_be_hidden()
    expect(upload_row(page, "photo.png")).to_be_visible()
    page.get_by_role("button", name="Clear", exact=True).click()
    # Both back, and the filters blank, before typing: the cleared form must not wipe it.
    expect(page.get_by_role("listitem", name=re.compile("^Upload "))).to_have_count(2)
    expect(page.get_by_role("button", name="Clear", exact=True)).to_be_hidden()
    page.get_by_label("Search by name").fill("FAKE")
    page.get_by_role("button", name="Search").click()
    expect(upload_row(page, "photo.png")).to_be_hidden()
    expect(upload_row(page, "fake.png")).to_be_visible()
    page.get_by_label("Search by name").fill("nothing-like-this")
    page.get_by_label("Search by name").press("Enter")
    expect(page.get_by_role("heading", name="No uploads match")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_role("listitem", name=re.compile("^Upload "))).to_have_count(2)

    upload_row(page, "photo.png").get_by_role("button", name="Delete photo.png").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete photo.png?")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    expect(upload_row(page, "photo.png")).to_be_visible()
    upload_row(page, "photo.png").get_by_role("button", name="Delete photo.png").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Deleted photo.png.")).to_be_visible()
    expect(upload_row(page, "photo.png")).to_have_count(0)
    expect(upload_row(page, "fake.png")).to_be_visible()
    page.reload()  # gone from the database, not only from the page
    expect(upload_row(page, "fake.png")).to_be_visible()
    expect(upload_row(page, "photo.png")).to_have_count(0)


def _with_previews(project_id: int) -> None:
    """Two of the seeded files as the after-upload job leaves them: one with a thumbnail, one
    with only a ThumbHash (its thumbnail not made yet)."""
    from fast_thumbhash import rgba_to_thumb_hash
    from sqlmodel import col, select

    from app.services.core.db import session_scope
    from app.services.core.models import Upload
    from app.services.core.storage import get_storage

    image = Image.new("RGBA", (32, 24), (40, 160, 90, 255))
    thumbhash = base64.b64encode(bytes(rgba_to_thumb_hash(32, 24, image.tobytes()))).decode()
    with session_scope() as session:
        with_thumb = session.exec(select(Upload).where(col(Upload.name) == "file29.png")).one()
        key = f"p/{project_id}/{with_thumb.id}/thumb.png"
        get_storage().put_bytes(key, png((30, 90, 200), (48, 48)), content_type="image/png")
        with_thumb.thumbnail_key, with_thumb.thumbhash = key, thumbhash
        hashed = session.exec(select(Upload).where(col(Upload.name) == "file28.png")).one()
        hashed.thumbhash = thumbhash
        session.add_all([with_thumb, hashed])


def test_previews_load_more_narrow_and_dark(
    page: Page,
    app_server: RunningApp,
    app_db: None,  # noqa: F811 - the fixture imported above
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = new_project(email, "Many files")
    files: list[tuple[str, bytes, str]] = [
        (f"file{n:02d}.png", png((n * 8, 100, 120)), "image/png") for n in range(30)
    ]
    seed_uploads(project_id, files)
    _with_previews(project_id)

    page.goto(f"/projects/{project_id}/uploads")
    rows = page.get_by_role("listitem", name=re.compile("^Upload "))
    expect(rows).to_have_count(25)
    expect(rows.first).to_have_accessible_name("Upload file29.png")  # newest first
    thumb = upload_row(page, "file29.png").locator("img")
    expect(thumb).to_have_attribute("src", re.compile(r"/api/files/p/\d+/up_\w+/thumb\.png\?"))
    assert page.evaluate("(img) => img.complete && img.naturalWidth", thumb.element_handle()) == 48
    placeholder = upload_row(page, "file28.png").locator("img")
    expect(placeholder).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(upload_row(page, "file27.png").locator("img")).to_have_count(0)  # the type's icon

    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(30)
    expect(rows.last).to_have_accessible_name("Upload file00.png")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shot(page, "project-uploads-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Open navigation")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"
    shot(page, "project-uploads-narrow")


def test_only_the_owner_sees_the_tab(page: Page, app_server: RunningApp, app_db: Any) -> None:  # noqa: F811
    owner = new_email()
    sign_up(page, owner)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = new_project(owner, "Private project")
    seed_uploads(project_id, [("secret.png", png(), "image/png")])
    page.context.clear_cookies()

    page.goto(f"/projects/{project_id}/uploads")  # signed out: sign in first, then come back
    expect(page).to_have_url(re.compile(rf"/login/?\?next=/projects/{project_id}/uploads"))

    sign_up(page, new_email(), name="Someone else")
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto(f"/projects/{project_id}/uploads")
    expect(page.get_by_role("heading", name="Project not available")).to_be_visible()
    expect(page.get_by_text("No such project.")).to_be_visible()
    expect(page.get_by_text("Private project")).to_have_count(0)
    expect(page.get_by_text("secret.png")).to_have_count(0)
    expect(page.locator("jsoncraft-upload")).to_have_count(0)
    page.goto("/projects/not-a-number/uploads")
    expect(page.get_by_role("heading", name="Project not available")).to_be_visible()

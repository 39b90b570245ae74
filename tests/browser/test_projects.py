"""Projects as a developer uses them: create one, see a key once and copy it, a read-only key,
regenerate with a grace period, revoke, change the upload rules (a bad MIME type gets a message
and loses nothing typed), then delete it after confirming. Another account gets "not found".
Keys are checked against the real API as they change."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db  # noqa: F401 - a fixture
from tests.utils.layout_checks import HEADER_WIDTHS, assert_fits

pytestmark = pytest.mark.browser
MB = 1024 * 1024


def api(app: RunningApp, method: str, path: str, key: str, **kwargs: object) -> httpx.Response:
    return httpx.request(
        method,
        f"{app.api_url}{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,  # type: ignore[arg-type]
    )


def key_row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("list", name="Secret keys").get_by_role("listitem", name=name)


def top_shot(page: Page, name: str) -> None:
    """A full-page shot from the top, so the sticky header sits where a person sees it."""
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def shown_key(page: Page, name: str, previous: str = "") -> str:
    """The key shown once, for the key called `name` (not the one shown before it)."""
    expect(page.get_by_role("region", name="New key")).to_contain_text(f"Your new key “{name}”")
    box = page.get_by_label("New secret key")
    if previous:
        expect(box).not_to_have_text(previous)
    expect(box).to_have_text(re.compile(r"^jc_[\w-]{20,}$"))
    return box.inner_text().strip()


def test_create_keys_rules_and_delete_a_project(
    page: Page, browser: Browser, app_server: RunningApp
) -> None:
    page.goto("/projects")  # signed out: to sign-in, and back here after
    expect(page).to_have_url(re.compile(r"/login\?next=/projects$"))
    expect(page.get_by_role("link", name="Projects")).to_have_count(0)

    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.get_by_role("link", name="Projects").first.click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
    expect(page.get_by_text("No projects yet")).to_be_visible()
    shot(page, "projects-empty")

    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("alert")).to_have_text("Give the project a name.")
    page.get_by_label("Project name").fill("Marketing")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Marketing", level=1)).to_be_visible()
    project_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.get_by_role("button", name="Rename project").click()
    page.get_by_label("Project name").fill("Marketing site")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("heading", name="Marketing site", level=1)).to_be_visible()
    tabs = page.locator(".project-tabs")
    expect(tabs.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("No keys yet")).to_be_visible()

    # A full key: shown once, copied, and it works against the API.
    page.get_by_label("Key name").fill("production server")
    page.get_by_role("button", name="Create key").click()
    server_key = shown_key(page, "production server")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Key copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == server_key
    assert api(app_server, "GET", f"/api/projects/{project_id}", server_key).status_code == 200
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_label("New secret key")).to_have_count(0)
    row = key_row(page, "production server")
    expect(row).to_contain_text(server_key[:10] + "…")
    expect(row).to_contain_text("Active")
    expect(row).not_to_contain_text(server_key)  # never shown again

    # A read-only key: it reads, and can't change the rules.
    page.get_by_label("Key name").fill("reader")
    page.get_by_role("checkbox").nth(0).click()  # upload
    page.get_by_role("checkbox").nth(2).click()  # manage
    page.get_by_role("button", name="Create key").click()
    reader_key = shown_key(page, "reader")
    assert api(app_server, "GET", f"/api/projects/{project_id}", reader_key).status_code == 200
    refused = api(
        app_server, "PATCH", f"/api/projects/{project_id}", reader_key, json={"acl": "private"}
    )
    assert refused.status_code == 403 and "'manage' scope" in refused.json()["detail"]
    expect(key_row(page, "reader")).to_contain_text("read")
    expect(key_row(page, "reader")).not_to_contain_text("upload")

    # Regenerate with a grace period: both keys work until it ends.
    key_row(page, "production server").get_by_role("button", name="Regenerate").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Regenerate “production server”?")
    dialog.get_by_role("radio", name="Keep it working for 24 hours").click()
    dialog.get_by_role("button", name="Regenerate").click()
    new_server_key = shown_key(page, "production server", previous=reader_key)
    assert new_server_key != server_key
    rows = page.get_by_role("list", name="Secret keys").get_by_role(
        "listitem", name="production server"
    )
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Expires in 23 hours")).to_have_count(1)
    for key in (server_key, new_server_key):
        assert api(app_server, "GET", f"/api/projects/{project_id}", key).status_code == 200

    # Revoke, after a confirmation that names the key.
    key_row(page, "reader").get_by_role("button", name="Revoke").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Revoke “reader”?")
    dialog.get_by_role("button", name="Revoke key").click()
    expect(key_row(page, "reader")).to_contain_text("Revoked")
    expect(key_row(page, "reader").get_by_role("button", name="Revoke")).to_have_count(0)
    assert api(app_server, "GET", f"/api/projects/{project_id}", reader_key).status_code == 401
    assert api(app_server, "GET", f"/api/projects/{project_id}", new_server_key).status_code == 200

    # Upload rules: a bad MIME type gets a message and nothing typed is lost.
    expect(page.get_by_label("Saved allowed types")).to_contain_text("image/*")
    expect(page.get_by_text("Your Free plan's cap: 64 MB")).to_be_visible()
    page.get_by_label("Allowed types", exact=True).fill("image/*, pdf")
    page.get_by_label("Max file size (MB)").fill("8")
    page.get_by_label("Max files per request").fill("3")
    page.get_by_label("Delete files after (days)").fill("30")
    page.get_by_role("radio", name="Public-read").click()
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("alert")).to_contain_text("“pdf” is not a MIME type")
    expect(page.get_by_label("Allowed types", exact=True)).to_have_value("image/*, pdf")
    expect(page.get_by_label("Max file size (MB)")).to_have_value("8")
    expect(page.get_by_label("Delete files after (days)")).to_have_value("30")
    expect(page.get_by_role("radio", name="Public-read")).to_be_checked()
    page.get_by_label("Max file size (MB)").fill("100")
    page.get_by_label("Allowed types", exact=True).fill("image/*, application/pdf")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("alert")).to_contain_text("at most 64 MB on the Free plan")
    page.get_by_label("Max file size (MB)").fill("8")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_text("Upload rules saved.")).to_be_visible()
    expect(page.get_by_label("Saved allowed types")).to_contain_text("application/pdf")
    answer = api(app_server, "GET", f"/api/projects/{project_id}", new_server_key)
    assert answer.status_code == 200, answer.text
    rules = answer.json()
    assert rules["allowed_types"] == ["image/*", "application/pdf"]
    assert (rules["max_file_size"], rules["max_files_per_upload"]) == (8 * MB, 3)
    assert (rules["expire_after_days"], rules["acl"]) == (30, "public-read")
    expect(page.get_by_label("Largest file this project accepts")).to_be_visible()
    expect(page.get_by_text("8 MB of 64 MB plan cap")).to_be_visible()
    expect(page.get_by_text("1 of 3", exact=True)).to_be_visible()  # projects used
    top_shot(page, "project-overview")

    for width in HEADER_WIDTHS:
        page.set_viewport_size({"width": width, "height": 844})
        expect(page.get_by_role("heading", name="Marketing site", level=1)).to_be_visible()
        assert_fits(page, width)
    top_shot(page, "project-overview-narrow")
    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    page.set_viewport_size({"width": 1280, "height": 860})
    top_shot(page, "project-overview-dark")
    page.get_by_role("button", name="Toggle dark mode").click()

    # Another account can't open it.
    other = browser.new_context(base_url=app_server.url)
    stranger = other.new_page()
    sign_up(stranger, new_email())
    expect(stranger.get_by_role("button", name="Account menu")).to_be_visible()
    stranger.goto(f"/projects/{project_id}")
    expect(stranger.get_by_role("heading", name="Project not found")).to_be_visible()
    expect(stranger.get_by_text("Marketing site")).to_have_count(0)
    other.close()

    # Delete, after a confirmation that names the project.
    page.get_by_role("button", name="Delete project").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("This deletes the project “Marketing site”")
    dialog.get_by_role("button", name="Delete project").click()
    expect(page).to_have_url(re.compile(r"/projects/?$"))
    expect(page.get_by_text("No projects yet")).to_be_visible()
    assert api(app_server, "GET", f"/api/projects/{project_id}", new_server_key).status_code == 401


def test_the_list_and_the_plans_project_limit(page: Page, app_db: None) -> None:  # noqa: F811
    from sqlmodel import select

    from app.services.accounts.api_keys import issue_key
    from app.services.core.db import session_scope
    from app.services.core.models import User
    from app.services.uploads.projects import create_project

    page.goto("/projects/1")  # signed out: to sign-in, and back to the project after
    expect(page).to_have_url(re.compile(r"/login\?next=/projects/1$"))
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    with session_scope() as session:
        owner = session.exec(select(User).where(User.email == email)).one()
        for name in ("Alpha", "Beta", "Gamma"):  # the Free plan's three
            project = create_project(session, owner=owner, name=name)
        assert project.id is not None
        issue_key(session, project_id=project.id, name="k")
    page.goto("/projects")
    gamma = page.get_by_role("link", name="Gamma")
    expect(gamma).to_contain_text("1 key")
    expect(gamma).to_contain_text("0 uploads this month")
    expect(page.get_by_role("link", name="Alpha")).to_contain_text("0 keys")

    page.get_by_label("Project name").fill("Delta")
    page.get_by_role("button", name="Create project").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The Free plan allows 3 projects and you have 3")
    expect(alert.get_by_role("link", name="Compare plans")).to_have_attribute("href", "/pricing")
    expect(page.get_by_label("Project name")).to_have_value("Delta")  # nothing lost
    expect(page.get_by_role("link", name="Delta")).to_have_count(0)
    shot(page, "projects-limit")

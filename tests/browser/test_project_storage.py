"""A developer keeps a project's files in a bucket of their own: saves it on the Storage tab
(the loopback SeaweedFS server, which checks signatures), tests the connection and sees each
step pass, replaces the secret with a wrong one and sees which step failed and why, copies
the CORS JSON, and removes the bucket after confirming. Wide, narrow and dark."""

from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import Page, expect

from app import routes
from tests.browser.test_shell import new_email, sign_up
from tests.browser.test_studio import app_db, shot  # noqa: F401 - app_db is a fixture
from tests.integration.conftest import S3Server, s3_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser
WRONG_SECRET = "not-the-right-secret-0123456789"


def make_project(email: str) -> int:
    from sqlmodel import select

    from app.services.accounts.api_keys import create_key
    from app.services.core.db import session_scope
    from app.services.core.models import User

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        return create_key(session, owner=user, project_name="Photo site").project_id


def make_bucket(server: S3Server) -> str:
    from app.services.core.storage import S3Storage

    name = f"browser-{uuid.uuid4().hex[:12]}"
    S3Storage(
        bucket=name,
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    ).ensure_bucket()
    return name


def step(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_label(f"{name} step", exact=True)


def test_save_test_break_copy_cors_and_remove_a_bucket(
    page: Page,
    app_db: None,  # noqa: F811
    s3_server: S3Server,  # noqa: F811
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = make_project(email)
    bucket = make_bucket(s3_server)

    page.goto(routes.project_url(project_id, "storage"))
    expect(page.get_by_role("heading", name="Storage", exact=True)).to_be_visible()
    expect(page.get_by_text("Photo site")).to_be_visible()
    expect(page.get_by_role("link", name="Storage")).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Current storage")).to_contain_text("the app's storage")
    expect(page.get_by_role("button", name="Test connection")).to_have_count(0)
    shot(page, "project-storage-empty")

    # A typo first: the message says what is wrong and the form keeps what was typed.
    page.get_by_label("Endpoint URL").fill(s3_server.endpoint_url)
    page.get_by_label("Bucket", exact=True).fill("Bad_Bucket")
    page.get_by_label("Access key id").fill(s3_server.access_key_id)
    page.get_by_label("Secret access key").fill(s3_server.secret_access_key)
    page.get_by_role("button", name="Save bucket").click()
    expect(page.get_by_role("alert")).to_contain_text("lowercase letters")
    expect(page.get_by_label("Endpoint URL")).to_have_value(s3_server.endpoint_url)

    page.get_by_label("Bucket", exact=True).fill(bucket)
    page.get_by_role("button", name="Save bucket").click()
    expect(page.get_by_label("Current storage")).to_contain_text(f"Files go to the bucket {bucket}")
    expect(page.get_by_label("Current storage")).to_contain_text("not tested yet")
    expect(page.get_by_label("Saved keys")).to_have_text("Keys: •••• saved")
    expect(page.get_by_label("Secret access key")).to_have_count(0)
    expect(page.get_by_label("Bucket", exact=True)).to_have_value(bucket)
    assert s3_server.secret_access_key not in page.content()

    page.get_by_role("button", name="Test connection").click()
    for name in ("put", "head", "delete"):
        expect(step(page, name)).to_contain_text("passed")
    expect(page.get_by_label("Current storage")).to_contain_text("connection tested")
    shot(page, "project-storage-passed")

    # A wrong secret: the put is refused, and the page says so (without any key).
    page.get_by_role("button", name="Replace keys").click()
    page.get_by_label("Secret access key").fill(WRONG_SECRET)
    page.get_by_role("button", name="Save bucket").click()
    expect(page.get_by_label("Saved keys")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    expect(step(page, "put")).to_contain_text("failed")
    expect(step(page, "put")).to_contain_text("The secret access key is wrong")
    expect(step(page, "put")).to_contain_text("SignatureDoesNotMatch")
    expect(step(page, "head")).to_contain_text("skipped")
    expect(step(page, "delete")).to_contain_text("skipped")
    assert WRONG_SECRET not in page.content()
    shot(page, "project-storage-failed")

    # CORS: the JSON for this app's origin, then for the developer's site too, copied.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    origins = page.get_by_label("Origins that upload (one per line)")
    origins.fill("https://shop.example.com/upload\nnot an origin")
    origins.blur()
    expect(page.get_by_role("alert")).to_contain_text("not an origin")
    origins.fill(f"{page.url.split('/projects')[0]}\nhttps://shop.example.com/upload")
    origins.blur()
    expect(page.get_by_label("CORS JSON", exact=True)).to_contain_text("https://shop.example.com")
    page.get_by_role("button", name="Copy CORS JSON").click()
    expect(page.get_by_text("CORS JSON copied.")).to_be_visible()
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    rule = copied["CORSRules"][0]
    assert rule["AllowedOrigins"][1] == "https://shop.example.com"
    assert (rule["AllowedMethods"], rule["AllowedHeaders"], rule["ExposeHeaders"]) == (
        ["PUT"], ["Content-Type"], ["ETag"],
    )  # fmt: skip
    expect(page.get_by_label("AWS CLI command", exact=True)).to_have_text(
        f"aws s3api put-bucket-cors --bucket {bucket} --cors-configuration file://cors.json"
        f" --endpoint-url {s3_server.endpoint_url}"
    )

    # Narrow, and dark.
    page.set_viewport_size({"width": 390, "height": 800})
    expect(page.get_by_role("button", name="Test connection")).to_be_visible()
    shot(page, "project-storage-narrow")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(page.get_by_label("Current storage")).to_contain_text(bucket)
    shot(page, "project-storage-dark")

    # Remove: cancel first, then confirm.
    page.get_by_role("button", name="Remove bucket").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("Current storage")).to_contain_text(bucket)
    page.get_by_role("button", name="Remove bucket").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_label("Current storage")).to_contain_text("the app's storage")
    expect(page.get_by_role("button", name="Test connection")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Current storage")).to_contain_text("the app's storage")
    expect(page.get_by_label("Bucket", exact=True)).to_have_value("")


def test_another_persons_project_is_not_found(page: Page, app_db: None) -> None:  # noqa: F811
    owner = new_email()
    sign_up(page, owner)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    project_id = make_project(owner)
    page.context.clear_cookies()
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto(routes.project_url(project_id, "storage"))
    expect(page.get_by_role("heading", name="Project not found")).to_be_visible()

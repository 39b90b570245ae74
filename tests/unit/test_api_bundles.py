"""Bundles over REST: export download, import upload (with per-item errors), listing."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api import create_api
from app.services.accounts import auth
from app.services.core.models import Prompt, User
from tests.unit.test_bundles import add_prompt, hand_made_bundle, prompt_data
from tests.utils.images import jpeg_bytes

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def sign_in(session: Session, email: str) -> tuple[User, dict[str, str]]:
    user = auth.create_user(session, email=email, password=PASSWORD)
    token = auth.open_session(session, user=user)
    session.commit()
    return user, {"Authorization": f"Bearer {token}"}


def test_bundles_need_a_signed_in_user(client: TestClient) -> None:
    assert client.get("/api/bundles").status_code == 401
    assert client.get("/api/bundles/export").status_code == 401
    files = {"file": ("b.zip", b"x", "application/zip")}
    assert client.post("/api/bundles", files=files).status_code == 401


def test_export_download_then_import_as_someone_else(client: TestClient, session: Session) -> None:
    ada, ada_auth = sign_in(session, "ada@example.com")
    add_prompt(session, ada, "Sea one", image=jpeg_bytes(), tags=["sea"])
    add_prompt(session, ada, "Land", tags=["land"])

    response = client.get("/api/bundles/export", params={"tag": "sea"}, headers=ada_auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="jsoncraft-sea-'
    )
    assert int(response.headers["content-length"]) == len(response.content)
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        items = json.loads(zf.read("manifest.json"))["items"]
    assert [i["title"] for i in items] == ["Sea one"]

    listed = client.get("/api/bundles", headers=ada_auth).json()
    assert [(b["kind"], b["item_count"]) for b in listed] == [("export", 1)]
    assert listed[0]["report"]["tag"] == "sea"
    # The kept copy downloads again through a signed URL.
    download = f"/api/bundles/{listed[0]['id']}/download"
    again = client.get(download, headers=ada_auth, follow_redirects=False)
    assert again.status_code == 307
    target = urlsplit(again.headers["location"])
    assert client.get(f"{target.path}?{target.query}").content == response.content

    bob, bob_auth = sign_in(session, "bob@example.com")
    assert (
        client.get(f"/api/bundles/{listed[0]['id']}/download", headers=bob_auth).status_code == 404
    )
    upload = {"file": ("sea.zip", response.content, "application/zip")}
    report = client.post("/api/bundles", files=upload, headers=bob_auth)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["ok"] is True and body["imported"] == 1 and body["images_added"] == 1
    assert body["message"] == "Imported 1 prompt, skipped 0 duplicates."
    assert session.exec(select(Prompt).where(Prompt.owner_id == bob.id)).one().title == "Sea one"

    again_report = client.post("/api/bundles", files=upload, headers=bob_auth).json()
    assert again_report["imported"] == 0 and again_report["skipped_duplicates"] == 1
    kinds = [b["kind"] for b in client.get("/api/bundles", headers=bob_auth).json()]
    assert kinds == ["import", "import"]


def test_a_bundle_with_a_bad_item_is_a_422_naming_the_item(
    client: TestClient, session: Session
) -> None:
    _bob, bob_auth = sign_in(session, "bob@example.com")
    data = hand_made_bundle(
        [("Fine", prompt_data("Fine"), None), ("Broken", prompt_data(""), None)]
    )
    response = client.post(
        "/api/bundles", files={"file": ("b.zip", data, "application/zip")}, headers=bob_auth
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("Nothing was imported: 1 of 2 items is invalid.")
    errors = body["report"]["errors"]
    assert [(e["index"], e["title"]) for e in errors] == [(2, "Broken")]
    assert "scene: Scene must not be empty." in errors[0]["message"]
    assert session.exec(select(Prompt)).all() == []
    assert client.get("/api/bundles", headers=bob_auth).json() == []


def test_a_file_that_is_not_a_bundle_is_a_422(client: TestClient, session: Session) -> None:
    _bob, bob_auth = sign_in(session, "bob@example.com")
    response = client.post(
        "/api/bundles", files={"file": ("x.zip", b"hello", "application/zip")}, headers=bob_auth
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "This file is not a JSONCraft bundle: it is not a zip archive, or it is damaged."
    }


def test_exporting_nothing_is_a_404(client: TestClient, session: Session) -> None:
    _ada, ada_auth = sign_in(session, "ada@example.com")
    response = client.get("/api/bundles/export", headers=ada_auth)
    assert response.status_code == 404
    assert response.json()["detail"] == "There are no prompts to export."


def test_export_by_ids_refuses_other_peoples_private_prompts(
    client: TestClient, session: Session
) -> None:
    ada, ada_auth = sign_in(session, "ada@example.com")
    bob, _ = sign_in(session, "bob@example.com")
    mine = add_prompt(session, ada, "Mine")
    theirs = add_prompt(session, bob, "Private")
    ok = client.get("/api/bundles/export", params={"ids": [mine.id]}, headers=ada_auth)
    assert ok.status_code == 200
    denied = client.get("/api/bundles/export", params={"ids": [theirs.id]}, headers=ada_auth)
    assert denied.status_code == 404


def test_the_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/bundles", "/api/bundles/export", "/api/bundles/{bundle_id}/download"} <= set(
        paths
    )

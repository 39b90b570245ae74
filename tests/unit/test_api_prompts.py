"""The prompt library over REST, through FastAPI's test client on a migrated SQLite file."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import auth
from app.services.core.models import Asset, Role, User
from app.services.library import prompt_ops
from tests.utils.prompt_factories import make_prompt, make_user, prompt_data


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def _headers(session: Session, user: User) -> dict[str, str]:
    token = auth.open_session(session, user=user)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def _create(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"title": "Harbour", "data": prompt_data("Fishing boats at dawn")} | body
    response = client.post("/api/prompts", headers=headers, json=payload)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_create_read_and_list(client: TestClient, session: Session) -> None:
    ada = _headers(session, make_user(session, "ada"))
    created = _create(client, ada, tags=["Sea", "dawn"], visibility="public", model="m/a")
    assert created["current_version"] == 1 and created["tags"] == ["dawn", "sea"]
    assert created["can_edit"] and created["can_manage"]

    got = client.get(f"/api/prompts/{created['id']}").json()  # public: no sign-in needed
    assert got["data"]["scene"] == "Fishing boats at dawn"
    assert [v["number"] for v in got["versions"]] == [1]

    listed = client.get("/api/prompts", params={"text": "fishing", "tags": ["sea", "dawn"]})
    assert listed.status_code == 200
    body = listed.json()
    assert [i["title"] for i in body["items"]] == ["Harbour"] and body["next_cursor"] is None
    assert body["items"][0]["is_favorite"] is False and body["items"][0]["rating"] is None
    assert client.get("/api/prompts", params={"model": "m/b"}).json()["items"] == []


def test_list_pages_by_cursor(client: TestClient, session: Session) -> None:
    ada = make_user(session, "ada")
    for i in range(5):
        make_prompt(session, ada, f"p{i}")
    session.commit()
    first = client.get("/api/prompts", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = client.get("/api/prompts", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert len(set(ids)) == 5


def test_list_filters_by_owner_and_dates(client: TestClient, session: Session) -> None:
    ada_user = make_user(session, "ada")
    ada = _headers(session, ada_user)
    _create(client, ada, visibility="private", title="mine")
    assert [
        i["title"] for i in client.get("/api/prompts", params={"owner": "me"}).json()["items"]
    ] == []
    mine = client.get("/api/prompts", headers=ada, params={"owner": "me"}).json()["items"]
    assert [i["title"] for i in mine] == ["mine"]
    by_id = client.get("/api/prompts", headers=ada, params={"owner": str(ada_user.id)}).json()
    assert [i["title"] for i in by_id["items"]] == ["mine"]
    today = mine[0]["created_at"][:10]
    whole_day = {"owner": "me", "date_from": today, "date_to": today}
    assert len(client.get("/api/prompts", headers=ada, params=whole_day).json()["items"]) == 1
    before = {"owner": "me", "date_to": "2000-01-01"}
    assert client.get("/api/prompts", headers=ada, params=before).json()["items"] == []


def test_bad_list_parameters_are_422_with_fields(client: TestClient) -> None:
    for params in [{"limit": 0}, {"limit": 101}, {"owner": "everyone"}, {"date_from": "soon"}]:
        response = client.get("/api/prompts", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"].startswith("query.")


def test_create_validates_body_and_schema(client: TestClient, session: Session) -> None:
    ada = _headers(session, make_user(session, "ada"))
    assert (
        client.post("/api/prompts", json={"title": "x", "data": prompt_data()}).status_code == 401
    )
    extra = client.post(
        "/api/prompts", headers=ada, json={"title": "x", "data": prompt_data(), "owner_id": 1}
    )
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["field"] == "owner_id"
    bad_schema = client.post(
        "/api/prompts", headers=ada, json={"title": "x", "data": prompt_data(scene=42)}
    )
    assert bad_schema.status_code == 422
    assert any(e["field"] == "data.scene" for e in bad_schema.json()["errors"])
    bad_visibility = client.post(
        "/api/prompts", headers=ada, json={"title": "x", "data": prompt_data(), "visibility": "x"}
    )
    assert bad_visibility.status_code == 422


def test_create_refuses_someone_elses_image(client: TestClient, session: Session) -> None:
    bob = make_user(session, "bob")
    assert bob.id is not None
    asset = Asset(
        owner_id=bob.id, content_hash="h" * 64, mime_type="image/png", size_bytes=1, width=1,
        height=1, storage_key="k",
    )  # fmt: skip
    session.add(asset)
    session.commit()
    ada = _headers(session, make_user(session, "ada"))
    response = client.post(
        "/api/prompts",
        headers=ada,
        json={"title": "x", "data": prompt_data(), "asset_id": asset.id},
    )
    assert response.status_code == 404


def test_put_saves_a_version_and_409s_on_a_stale_base(client: TestClient, session: Session) -> None:
    ada = _headers(session, make_user(session, "ada"))
    eve = _headers(session, make_user(session, "eve", Role.editor))
    created = _create(client, ada, visibility="public")
    url = f"/api/prompts/{created['id']}"

    saved = client.put(
        url, headers=ada, json={"data": prompt_data("v2"), "message": "m", "base_version": 1}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["current_version"] == 2

    stale = client.put(url, headers=eve, json={"data": prompt_data("eve"), "base_version": 1})
    assert stale.status_code == 409
    body = stale.json()
    assert body["current_version"] == 2 and body["current_data"]["scene"] == "v2"
    assert client.get(url).json()["data"]["scene"] == "v2"  # nothing overwritten

    history = client.get(f"{url}/versions").json()
    assert [v["number"] for v in history] == [2, 1] and history[0]["message"] == "m"

    invalid = client.put(url, headers=ada, json={"data": {"scene": 1}, "base_version": 2})
    assert invalid.status_code == 422
    missing = client.put(url, headers=ada, json={"data": prompt_data()})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "base_version"


def test_private_prompts_are_404_and_not_editable(client: TestClient, session: Session) -> None:
    ada = _headers(session, make_user(session, "ada"))
    bob_user = make_user(session, "bob")
    bob = _headers(session, bob_user)
    secret = _create(client, ada, visibility="private")
    url = f"/api/prompts/{secret['id']}"
    assert client.get(url).status_code == 404
    assert client.get(url, headers=bob).status_code == 404
    assert client.get(f"{url}/versions", headers=bob).status_code == 404
    edit = client.put(url, headers=bob, json={"data": prompt_data("bob"), "base_version": 1})
    assert edit.status_code == 404
    public = _create(client, ada, visibility="public")
    not_editor = client.put(
        f"/api/prompts/{public['id']}",
        headers=bob,
        json={"data": prompt_data("bob"), "base_version": 1},
    )
    assert not_editor.status_code == 403


def test_share_link_is_read_only_and_revocable(client: TestClient, session: Session) -> None:
    ada_user = make_user(session, "ada")
    prompt = make_prompt(session, ada_user, "Shared", visibility="private", tags=["sea"])
    assert prompt.id is not None
    token = prompt_ops.create_share_link(session, prompt_id=prompt.id, viewer=ada_user)
    session.commit()
    shared = client.get(f"/api/share/{token}")
    assert shared.status_code == 200
    assert shared.json()["title"] == "Shared" and shared.json()["tags"] == ["sea"]
    assert "owner_id" not in shared.json()
    # The token opens nothing else.
    assert client.get(f"/api/prompts/{prompt.id}").status_code == 404
    assert client.put(f"/api/share/{token}", json={}).status_code == 405
    prompt_ops.revoke_share_link(session, prompt_id=prompt.id, viewer=ada_user)
    session.commit()
    assert client.get(f"/api/share/{token}").status_code == 404
    assert client.get("/api/share/not-a-token").status_code == 404


def test_openapi_lists_the_prompt_routes(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ["/api/prompts", "/api/prompts/{prompt_id}", "/api/share/{token}"]:
        assert path in paths

"""`GET` and `PATCH /api/projects/{id}`: the project's own key (with `manage` to change) or its
owner's session; another project's id is 404; every bad rule a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts.api_keys import issue_key
from app.services.accounts.auth import open_session
from app.services.accounts.session_cookie import SESSION_COOKIE
from app.services.core.models import Project
from app.services.uploads.projects import create_project
from tests.utils.job_helpers import make_user

MB = 1024 * 1024


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_api(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def setup(session: Session) -> dict[str, Any]:
    owner = make_user(session, "dev@example.com")
    stranger = make_user(session, "stranger@example.com")
    mine = create_project(session, owner=owner, name="Site")
    other = create_project(session, owner=owner, name="Other")
    theirs = create_project(session, owner=stranger, name="Theirs")
    assert mine.id is not None and other.id is not None and theirs.id is not None
    out = {
        "id": mine.id,
        "other_id": other.id,
        "theirs_id": theirs.id,
        "manage": issue_key(session, project_id=mine.id, name="m", scopes=("manage",)).key,
        "read": issue_key(session, project_id=mine.id, name="r", scopes=("read",)).key,
        "upload": issue_key(session, project_id=mine.id, name="u", scopes=("upload",)).key,
        "other_manage": issue_key(session, project_id=other.id, name="o").key,
        "session": open_session(session, user=owner),
        "stranger_session": open_session(session, user=stranger),
    }
    session.commit()
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_manage_key_changes_rules_and_gets_the_config_back(
    client: TestClient, setup: dict[str, Any], session: Session
) -> None:
    r = client.patch(
        f"/api/projects/{setup['id']}",
        json={
            "allowed_types": ["image/*", "application/pdf"],
            "max_file_size": 2 * MB,
            "max_files_per_upload": 4,
            "expire_after_days": 7,
            "acl": "public-read",
        },
        headers=bearer(setup["manage"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == setup["id"] and body["name"] == "Site"
    assert body["allowed_types"] == ["image/*", "application/pdf"]
    assert (body["max_file_size"], body["max_files_per_upload"]) == (2 * MB, 4)
    assert (body["expire_after_days"], body["acl"]) == (7, "public-read")

    r = client.patch(
        f"/api/projects/{setup['id']}",
        json={"expire_after_days": None},
        headers=bearer(setup["manage"]),
    )
    assert r.status_code == 200 and r.json()["expire_after_days"] is None
    assert r.json()["max_files_per_upload"] == 4  # left out: unchanged
    project = session.get(Project, setup["id"])
    assert project is not None
    session.refresh(project)
    assert project.acl == "public-read" and project.expire_after_days is None

    for key in ("read", "manage"):
        got = client.get(f"/api/projects/{setup['id']}", headers=bearer(setup[key]))
        assert got.status_code == 200 and got.json()["max_file_size"] == 2 * MB


def test_the_owners_session_may_change_it_too(client: TestClient, setup: dict[str, Any]) -> None:
    r = client.patch(
        f"/api/projects/{setup['id']}",
        json={"acl": "public-read"},
        headers=bearer(setup["session"]),
    )
    assert r.status_code == 200 and r.json()["acl"] == "public-read"
    client.cookies.set(SESSION_COOKIE, setup["session"])  # the dashboard's cookie
    r = client.patch(f"/api/projects/{setup['id']}", json={"acl": "private"})
    assert r.status_code == 200 and r.json()["acl"] == "private"


def test_keys_without_manage_and_strangers_are_refused(
    client: TestClient, setup: dict[str, Any]
) -> None:
    url = f"/api/projects/{setup['id']}"
    for key in ("read", "upload"):
        r = client.patch(url, json={"acl": "public-read"}, headers=bearer(setup[key]))
        assert r.status_code == 403 and "'manage' scope" in r.json()["detail"]
    r = client.get(url, headers=bearer(setup["upload"]))
    assert r.status_code == 403
    # Another project's key, even of the same owner, and another person's session: not found.
    for token in (setup["other_manage"], setup["stranger_session"]):
        for method in ("GET", "PATCH"):
            r = client.request(method, url, json={"acl": "private"}, headers=bearer(token))
            assert r.status_code == 404, (method, r.text)
            assert r.json()["detail"] == "No such project."
    r = client.get(f"/api/projects/{setup['theirs_id']}", headers=bearer(setup["session"]))
    assert r.status_code == 404
    for headers in ({}, bearer("jc_forged"), bearer("not-a-session")):
        r = client.patch(url, json={"acl": "private"}, headers=headers)
        assert r.status_code == 401 and "jc_" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"max_file_size": 64 * MB + 1}, "max_file_size", "at most 64 MB on the Free plan"),
        ({"allowed_types": ["images"]}, "allowed_types", "“images” is not a MIME type"),
        ({"allowed_types": ["*/*"]}, "allowed_types", "leave the list of allowed types empty"),
        ({"max_files_per_upload": 0}, "max_files_per_upload", "greater than or equal to 1"),
        ({"max_files_per_upload": 101}, "max_files_per_upload", "less than or equal to 100"),
        ({"expire_after_days": 0}, "expire_after_days", "greater than or equal to 1"),
        ({"acl": "public"}, "acl", "'private' or 'public-read'"),
        ({"acl": None}, "acl", "'private' or 'public-read'"),
        ({"allowed_types": None}, "allowed_types", "valid list"),
        ({"max_file_size": "big"}, "max_file_size", "valid integer"),
        ({"owner_id": 7}, "owner_id", "Extra inputs"),
    ],
)
def test_bad_rules_get_a_422_naming_the_field_and_change_nothing(
    client: TestClient, setup: dict[str, Any], body: dict[str, Any], field: str, message: str
) -> None:
    url = f"/api/projects/{setup['id']}"
    r = client.patch(url, json=body, headers=bearer(setup["manage"]))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    after = client.get(url, headers=bearer(setup["manage"])).json()
    assert after["max_file_size"] == 16 * MB and after["acl"] == "private"
    assert after["allowed_types"] == ["image/*"]

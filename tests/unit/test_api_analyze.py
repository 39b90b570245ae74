"""`POST /api/analyze`: JSON and Server-Sent Events, session or API-key auth, bad input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import api_keys, auth
from app.services.demo.images import demo_catalog, render_demo_png
from app.services.library.prompts import validate_prompt
from tests.utils.images import png_bomb

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture
def user_key(session: Session) -> str:
    user = auth.create_user(session, email="dev@example.com", password=PASSWORD)
    key = api_keys.create_key(session, owner=user, name="test").key
    session.commit()
    return key


def _image() -> bytes:
    return render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))


def _sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_json_answer_with_an_api_key(client: TestClient, user_key: str) -> None:
    response = client.post(
        "/api/analyze",
        headers={"Authorization": f"Bearer {user_key}"},
        files={"image": ("sunset.png", _image(), "image/png")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert validate_prompt(body["prompt"]) == []
    assert body["analysis_id"] > 0 and body["model"] == "local/jsoncraft-vision"


def test_streamed_answer_is_server_sent_events(client: TestClient, user_key: str) -> None:
    response = client.post(
        "/api/analyze?stream=true",
        headers={"Authorization": f"Bearer {user_key}"},
        files={"image": ("sunset.png", _image(), "image/png")},
        data={"instructions": "keep it short"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "started" and names[-1] == "done"
    assert "reasoning" in names and names.count("json") >= 3
    partial_sizes = [len(data["prompt"]) for name, data in events if name == "json"]
    assert partial_sizes[0] < partial_sizes[-1]
    assert validate_prompt(events[-1][1]["prompt"]) == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer jc_forged"}, 401),
        ({"Authorization": "Bearer nope"}, 401),
    ],
)
def test_auth_is_required(client: TestClient, headers: dict, status: int) -> None:
    response = client.post(
        "/api/analyze", headers=headers, files={"image": ("a.png", _image(), "image/png")}
    )
    assert response.status_code == status


def test_revoked_keys_stop_working(client: TestClient, session: Session) -> None:
    user = auth.create_user(session, email="dev2@example.com", password=PASSWORD)
    new = api_keys.create_key(session, owner=user)
    session.commit()
    assert api_keys.revoke_key(session, owner=user, key_id=new.key_id)
    session.commit()
    response = client.post(
        "/api/analyze",
        headers={"Authorization": f"Bearer {new.key}"},
        files={"image": ("a.png", _image(), "image/png")},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("name", "data", "status", "fragment"),
    [
        ("a.txt", b"hello there, not an image", 415, "not a supported image"),
        ("bomb.png", png_bomb(), 413, "20000"),
        ("empty.png", b"", 415, "empty"),
    ],
)
def test_bad_images_are_refused_clearly(
    client: TestClient, user_key: str, name: str, data: bytes, status: int, fragment: str
) -> None:
    response = client.post(
        "/api/analyze",
        headers={"Authorization": f"Bearer {user_key}"},
        files={"image": (name, data, "image/png")},
    )
    assert response.status_code == status
    assert fragment in response.json()["detail"]


def test_unknown_model_is_a_readable_error(client: TestClient, user_key: str) -> None:
    response = client.post(
        "/api/analyze",
        headers={"Authorization": f"Bearer {user_key}"},
        files={"image": ("a.png", _image(), "image/png")},
        data={"model": "acme/nothing"},
    )
    assert response.status_code == 422
    assert "Unknown model 'acme/nothing'" in response.json()["detail"]

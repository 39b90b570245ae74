"""The REST API through FastAPI's test client, on a migrated SQLite file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import auth
from app.services.accounts.session_cookie import SESSION_COOKIE
from app.settings import reset_settings
from tests.utils.images import jpeg_bytes, png_bomb, truncated_jpeg

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture
def token(session: Session) -> str:
    user = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    value = auth.open_session(session, user=user)
    session.commit()
    return value


def test_health_reports_every_part(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert {name: c["status"] for name, c in body["checks"].items()} == {
        "database": "up",
        "storage": "up",
        "queue": "up",
        "redis": "not configured",
    }
    assert response.headers["x-request-id"]


def test_health_is_503_when_the_database_is_down(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none")
    reset_settings()
    response = TestClient(create_api()).get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"status": "down"}
    assert "secretpw" not in response.text


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/api/health" in spec["paths"]
    assert "/api/assets" in spec["paths"]


def test_me_needs_a_session(client: TestClient, token: str) -> None:
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert "password" not in me.text
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/me").status_code == 200
    client.cookies.clear()
    client.cookies.set("jsoncraft_session", token)  # the old, script-readable name: not read
    assert client.get("/api/me").status_code == 401


def test_upload_through_the_api(client: TestClient, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    ok = client.post(
        "/api/assets", headers=headers, files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["width"] == 640
    assert ok.json()["mime_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("notes.jpg", b"plain text pretending to be a photo", 415),
        ("cut.jpg", truncated_jpeg(), 415),
        ("bomb.png", png_bomb(), 413),
        ("empty.png", b"", 415),
        ("page.jpg", b"<html><script>alert(1)</script></html>", 415),
    ],
)
def test_bad_uploads_get_a_clear_error_and_no_stack_trace(
    client: TestClient, token: str, name: str, data: bytes, status: int
) -> None:
    response = client.post(
        "/api/assets",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, data, "image/jpeg")},
    )
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and 10 < len(detail) < 300
    assert "Traceback" not in response.text


def test_upload_needs_a_session(client: TestClient) -> None:
    response = client.post("/api/assets", files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")})
    assert response.status_code == 401


def test_missing_file_field_is_a_readable_422(client: TestClient, token: str) -> None:
    response = client.post("/api/assets", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_admin_endpoints_refuse_non_admins(
    client: TestClient, token: str, session: Session
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/admin/users").status_code == 401
    assert client.get("/api/admin/users", headers=headers).status_code == 403
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=PASSWORD)
    admin_token = auth.open_session(session, user=admin)
    session.commit()
    admin_headers = {"Authorization": f"Bearer {admin_token}"}
    listed = client.get("/api/admin/users", headers=admin_headers)
    assert listed.status_code == 200
    assert {u["email"] for u in listed.json()} == {"ada@example.com", "boss@example.com"}
    assert "password" not in listed.text
    ada_id = next(u["id"] for u in listed.json() if u["email"] == "ada@example.com")
    bad = client.put(
        f"/api/admin/users/{ada_id}/role", headers=admin_headers, json={"role": "root"}
    )
    assert bad.status_code == 422
    # The schema lists the roles; the answer says which field and what is allowed.
    assert bad.json()["errors"] == [
        {"field": "role", "message": "Input should be 'user', 'editor' or 'admin'"}
    ]
    ok = client.put(
        f"/api/admin/users/{ada_id}/role", headers=admin_headers, json={"role": "editor"}
    )
    assert ok.status_code == 200 and ok.json()["role"] == "editor"
    forbidden = client.put(
        f"/api/admin/users/{ada_id}/role", headers=headers, json={"role": "admin"}
    )
    assert forbidden.status_code == 403

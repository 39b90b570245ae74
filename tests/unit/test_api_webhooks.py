"""`/api/projects/{id}/webhooks`: add (201 + a whsec_ secret), list, delete; who may, and the
nasty requests. Real SQLite and a loopback receiver for the delivery the new endpoint gets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from standardwebhooks import Webhook

from app.api import create_api
from app.services.accounts import api_keys, auth
from app.services.accounts.session_cookie import SESSION_COOKIE
from app.services.core.models import ApiKey
from app.services.webhooks.outbox import emit
from app.settings import reset_settings
from tests.utils.fakes.webhook_receiver import WebhookReceiver
from tests.utils.job_helpers import PASSWORD, make_user, run_queue


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    reset_settings()
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def key(session: Session) -> api_keys.NewKey:
    owner = make_user(session, "dev@example.com")
    new = api_keys.create_key(session, owner=owner, project_name="Site")
    session.commit()
    return new


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_add_list_and_delete_with_a_manage_key(
    client: TestClient, session: Session, key: api_keys.NewKey, receiver: WebhookReceiver
) -> None:
    base = f"/api/projects/{key.project_id}/webhooks"
    made = client.post(
        base,
        json={"url": receiver.url + "/in", "events": ["upload.completed"]},
        headers=_bearer(key.key),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert set(body) == {"id", "secret"} and body["secret"].startswith("whsec_")

    listed = client.get(base, headers=_bearer(key.key))
    assert listed.status_code == 200
    (endpoint,) = listed.json()
    assert endpoint["id"] == body["id"] and endpoint["enabled"] is True
    assert endpoint["events"] == ["upload.completed"] and "secret" not in str(endpoint)

    emit(session, project_id=key.project_id, event_type="upload.completed", data={"id": "up_1"})
    session.commit()
    run_queue()
    (request,) = receiver.requests
    assert Webhook(body["secret"]).verify(request.body, request.headers)["data"] == {"id": "up_1"}

    gone = client.delete(f"{base}/{body['id']}", headers=_bearer(key.key))
    assert gone.status_code == 204 and gone.content == b""
    assert client.get(base, headers=_bearer(key.key)).json() == []
    assert client.delete(f"{base}/{body['id']}", headers=_bearer(key.key)).status_code == 404


def test_the_owners_session_may_manage_too(
    client: TestClient, session: Session, key: api_keys.NewKey, receiver: WebhookReceiver
) -> None:
    signed = auth.authenticate(session, email="dev@example.com", password=PASSWORD)
    session.commit()
    client.cookies.set(SESSION_COOKIE, signed.token)
    made = client.post(
        f"/api/projects/{key.project_id}/webhooks",
        json={"url": receiver.url, "events": ["upload.deleted", "upload.expired"]},
    )
    assert made.status_code == 201, made.text


def test_who_may_not(
    client: TestClient, session: Session, key: api_keys.NewKey, receiver: WebhookReceiver
) -> None:
    body = {"url": receiver.url, "events": ["upload.completed"]}
    mine = f"/api/projects/{key.project_id}/webhooks"
    assert client.post(mine, json=body).status_code == 401
    assert client.post(mine, json=body, headers=_bearer("jc_forged")).status_code == 401

    other_owner = make_user(session, "other@example.com")
    other = api_keys.create_key(session, owner=other_owner, project_name="Theirs")
    session.commit()
    theirs = f"/api/projects/{other.project_id}/webhooks"
    for method in ("post", "get"):
        answer = client.request(method, theirs, json=body, headers=_bearer(key.key))
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"detail": "No such project."}
    assert client.delete(theirs + "/1", headers=_bearer(key.key)).status_code == 404
    missing = client.get("/api/projects/999999/webhooks", headers=_bearer(key.key))
    assert missing.status_code == 404

    signed = auth.authenticate(session, email="other@example.com", password=PASSWORD)
    session.commit()
    client.cookies.set(SESSION_COOKIE, signed.token)
    assert client.get(mine).status_code == 404  # another person's project, by session
    client.cookies.clear()

    row = session.get(ApiKey, key.key_id)
    assert row is not None
    row.scopes = "upload,read"
    session.add(row)
    session.commit()
    refused = client.post(mine, json=body, headers=_bearer(key.key))
    assert refused.status_code == 403 and "'manage' scope" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["upload.exploded"]}, "events.0"),
        ({"url": "", "events": ["upload.completed"]}, "url"),
        ({"url": "https://example.com/\x00", "events": ["upload.completed"]}, ""),
        ({"url": "https://example.com/x"}, "events"),
        ({"url": "https://example.com/x", "events": ["upload.completed"], "secret": "x"}, "secret"),
        ({"url": 42, "events": ["upload.completed"]}, "url"),
    ],
)
def test_invalid_bodies_say_which_field(
    client: TestClient, key: api_keys.NewKey, body: dict[str, object], field: str
) -> None:
    answer = client.post(
        f"/api/projects/{key.project_id}/webhooks", json=body, headers=_bearer(key.key)
    )
    assert answer.status_code == 422, answer.text
    assert any(e["field"] == field for e in answer.json()["errors"]), answer.json()


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://127.0.0.1:9/hook", "resolves to 127.0.0.1"),
        ("http://10.0.0.8/hook", "resolves to 10.0.0.8"),
        ("http://169.254.169.254/", "resolves to 169.254.169.254"),
        ("http://[::1]/", "resolves to ::1"),
        ("http://localhost:9/", "resolves to 127.0.0.1"),
        ("ftp://example.com/", "https://"),
        ("https://me:pw@example.com/", "user name or password"),
    ],
)
def test_refused_destinations_get_a_clear_422(
    client: TestClient, key: api_keys.NewKey, url: str, detail: str
) -> None:
    answer = client.post(
        f"/api/projects/{key.project_id}/webhooks",
        json={"url": url, "events": ["upload.completed"]},
        headers=_bearer(key.key),
    )
    assert answer.status_code == 422, answer.text
    assert detail in answer.json()["detail"]

"""The upload API end to end on the local store: presign, PUT to the signed URL, complete,
the log, get, delete, client tokens, CORS; and every error it answers, with the nasty inputs.

Real SQLite migrated with Alembic, the real FastAPI app through TestClient, the local store's
signed PUT route for the bytes (the URL's host is the configured API_URL; its path is what the
app serves), and the real webhook outbox.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlmodel import Session, select

from app.api import create_api
from app.services.accounts import api_keys
from app.services.accounts.api_keys import KeyAuth
from app.services.core import rate_limits
from app.services.core.models import (
    ApiKey,
    Project,
    Upload,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.services.core.secret_box import seal_secret
from app.services.core.storage import LocalStorage, get_storage
from app.services.uploads import client_tokens
from app.services.uploads.presign import MULTIPART_THRESHOLD
from app.services.webhooks.outbox import EVENTS
from tests.utils.job_helpers import make_user
from tests.utils.outbox import emails, only_email

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"x" * 200


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    rate_limits.reset_policies()
    rate_limits.reset_counters()


class Dev:
    """A developer with a project, a key with every scope and a webhook endpoint for all events."""

    def __init__(self, session: Session, email: str, *, plan: str = "free") -> None:
        self.user: User = make_user(session, email, plan=plan)
        new = api_keys.create_key(session, owner=self.user, project_name="Site")
        self.key, self.key_id, self.project_id = new.key, new.key_id, new.project_id
        session.add(
            WebhookEndpoint(
                project_id=self.project_id,
                url="https://hooks.test/in",
                events=list(EVENTS),
                secret_enc=seal_secret("whsec_test"),
            )
        )
        session.commit()
        self.headers = {"Authorization": f"Bearer {self.key}"}

    def project(self, session: Session) -> Project:
        project = session.get(Project, self.project_id)
        assert project is not None
        session.refresh(project)
        return project


@pytest.fixture
def dev(session: Session) -> Dev:
    return Dev(session, "dev@example.com")


def presign(client: TestClient, dev: Dev, *files: dict[str, Any]) -> Response:
    return client.post("/api/uploads", json={"files": list(files)}, headers=dev.headers)


def presign_one(client: TestClient, dev: Dev, name: str, data: bytes, type_: str) -> dict[str, Any]:
    answer = presign(client, dev, {"name": name, "size": len(data), "type": type_})
    assert answer.status_code == 200, answer.text
    upload: dict[str, Any] = answer.json()["uploads"][0]
    return upload


def put(client: TestClient, url: str, data: bytes, headers: dict[str, str]) -> Response:
    parts = urlsplit(url)
    return client.put(f"{parts.path}?{parts.query}", content=data, headers=headers)


def complete(client: TestClient, dev: Dev, upload_id: str, body: Any = None) -> Response:
    return client.post(f"/api/uploads/{upload_id}/complete", json=body, headers=dev.headers)


def events(session: Session) -> list[tuple[str, dict[str, Any]]]:
    session.expire_all()
    rows = session.exec(select(WebhookDelivery).order_by(WebhookDelivery.created_at)).all()
    return [(r.event_type, json.loads(r.payload)["data"]) for r in rows]


# --- the happy paths ---------------------------------------------------------------------------


def test_presign_put_complete_get_and_download(
    client: TestClient, dev: Dev, session: Session
) -> None:
    data = png_bytes()
    up = presign_one(client, dev, "holiday.png", data, "image/png")
    assert up["id"].startswith("up_") and up["method"] == "PUT"
    assert up["key"] == f"p/{dev.project_id}/{up['id']}/holiday.png"
    assert up["headers"] == {"Content-Type": "image/png"} and up["multipart"] is None
    row = session.get(Upload, up["id"])
    assert row is not None and row.status == "pending" and row.url_expires_at > utcnow()

    stored = put(client, up["url"], data, up["headers"])
    assert stored.status_code == 200
    assert stored.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'

    done = complete(client, dev, up["id"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "ready" and body["type"] == "image/png"
    assert (body["width"], body["height"]) == (40, 30) and body["reason"] is None
    assert [e for e, _ in events(session)] == ["upload.completed"]
    assert events(session)[0][1]["id"] == up["id"]

    # Idempotent: the same answer, and no second event.
    again = complete(client, dev, up["id"])
    assert again.status_code == 200 and again.json() == body
    assert len(events(session)) == 1

    got = client.get(f"/api/uploads/{up['id']}", headers=dev.headers)
    assert got.status_code == 200 and got.json()["status"] == "ready"
    link = urlsplit(got.json()["url"])
    downloaded = client.get(f"{link.path}?{link.query}")
    assert downloaded.status_code == 200 and downloaded.content == data


def test_a_file_over_64_mib_goes_up_in_parts(
    client: TestClient, dev: Dev, session: Session
) -> None:
    project = dev.project(session)
    project.allowed_types, project.max_file_size = [], 200 * 1024 * 1024
    session.add(project)
    dev.user.plan = "pro"
    session.add(dev.user)
    session.commit()
    block = bytes(range(256)) * 4096  # 1 MiB
    data = b"%PDF-1.7\n" + block * 65 + b"tail"
    assert len(data) > MULTIPART_THRESHOLD
    up = presign_one(client, dev, "report.pdf", data, "application/pdf")
    multipart = up["multipart"]
    size = multipart["part_size"]
    assert 5 * 1024 * 1024 <= size <= 5 * 1024**3
    assert [p["part_number"] for p in multipart["parts"]] == list(range(1, len(data) // size + 2))

    etags = []
    for part in multipart["parts"]:
        n = part["part_number"]
        answer = put(client, part["url"], data[(n - 1) * size : n * size], {})
        assert answer.status_code == 200, answer.text
        etags.append({"part_number": n, "etag": answer.headers["etag"]})

    wrong = [dict(etags[0], etag='"' + "0" * 32 + '"'), *etags[1:]]
    refused = complete(client, dev, up["id"], {"parts": wrong})
    assert refused.status_code == 409 and "ETag" in refused.json()["detail"]
    missing = complete(client, dev, up["id"], {"parts": etags[:-1]})
    assert missing.status_code == 422 and "each once" in missing.json()["detail"]
    no_parts = complete(client, dev, up["id"])
    assert no_parts.status_code == 422 and "multipart" in no_parts.json()["detail"]

    done = complete(client, dev, up["id"], {"parts": list(reversed(etags))})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ready" and done.json()["type"] == "application/pdf"
    storage = get_storage()
    assert hashlib.sha256(storage.read_bytes(up["key"])).digest() == hashlib.sha256(data).digest()
    assert complete(client, dev, up["id"], {"parts": etags}).json()["status"] == "ready"


# --- complete's checks -------------------------------------------------------------------------


def test_a_png_name_with_pdf_bytes_is_rejected_and_deleted(
    client: TestClient, dev: Dev, session: Session
) -> None:
    up = presign_one(client, dev, "cat.png", PDF, "image/png")
    assert put(client, up["url"], PDF, up["headers"]).status_code == 200
    done = complete(client, dev, up["id"])
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "rejected"
    assert "application/pdf" in body["reason"] and "image/png" in body["reason"]
    assert not get_storage().exists(up["key"])
    assert [e for e, _ in events(session)] == ["upload.rejected"]
    assert events(session)[0][1]["reason"] == body["reason"]
    got = client.get(f"/api/uploads/{up['id']}", headers=dev.headers).json()
    assert got["status"] == "rejected" and got["url"] is None
    told = only_email(session, "upload_failed", to=dev.user.email)
    assert (told.context["upload_id"], told.context["filename"]) == (up["id"], "cat.png")
    assert told.context["status"] == "rejected" and told.context["reason"] == body["reason"]
    assert told.context["url"].endswith(f"/projects/{dev.project_id}/uploads")
    assert complete(client, dev, up["id"]).json()["status"] == "rejected"  # again: no 2nd email
    assert len(emails(session, "upload_failed")) == 1


def test_a_size_that_differs_from_the_declared_one_is_rejected(
    client: TestClient, dev: Dev
) -> None:
    data = png_bytes()
    up = presign_one(client, dev, "a.png", data, "image/png")
    assert put(client, up["url"], data + b"extra", up["headers"]).status_code == 200
    body = complete(client, dev, up["id"]).json()
    assert body["status"] == "rejected" and "were declared" in body["reason"]


def test_an_empty_file_is_rejected_at_complete(client: TestClient, dev: Dev) -> None:
    up = presign_one(client, dev, "a.png", png_bytes(), "image/png")
    assert put(client, up["url"], b"", up["headers"]).status_code == 200
    body = complete(client, dev, up["id"]).json()
    assert body["status"] == "rejected" and "0 bytes" in body["reason"]


def test_completing_before_the_file_is_stored_says_what_to_do(client: TestClient, dev: Dev) -> None:
    up = presign_one(client, dev, "a.png", png_bytes(), "image/png")
    answer = complete(client, dev, up["id"])
    assert answer.status_code == 409
    assert "PUT the file to its URL first" in answer.json()["detail"]


def test_svg_needs_to_be_listed_by_name(client: TestClient, dev: Dev, session: Session) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = presign(client, dev, {"name": "x.svg", "size": len(svg), "type": "image/svg+xml"})
    assert refused.status_code == 415 and "image/*" in refused.json()["detail"]
    # Declared as a PNG, the SVG's bytes give it away at complete.
    up = presign_one(client, dev, "x.png", svg, "image/png")
    put(client, up["url"], svg, up["headers"])
    assert complete(client, dev, up["id"]).json()["status"] == "rejected"


def test_a_gif_declared_as_png_is_ready_under_its_real_type(client: TestClient, dev: Dev) -> None:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    gif = out.getvalue()
    up = presign_one(client, dev, "a.png", gif, "image/png")
    put(client, up["url"], gif, up["headers"])
    body = complete(client, dev, up["id"]).json()
    assert body["status"] == "ready" and body["type"] == "image/gif"


# --- presign's checks --------------------------------------------------------------------------


def test_a_file_over_the_projects_cap_names_the_project_limit(
    client: TestClient, dev: Dev, session: Session
) -> None:
    answer = presign(client, dev, {"name": "a.png", "size": 17 * 1024 * 1024, "type": "image/png"})
    assert answer.status_code == 413
    assert "this project's max_file_size is 16 MB" in answer.json()["detail"]


def test_a_file_over_the_plans_cap_names_the_plan_limit(
    client: TestClient, dev: Dev, session: Session
) -> None:
    project = dev.project(session)
    project.max_file_size = 10 * 1024**3
    session.add(project)
    session.commit()
    answer = presign(client, dev, {"name": "a.png", "size": 65 * 1024 * 1024, "type": "image/png"})
    assert answer.status_code == 413
    assert "the Free plan takes files up to 64 MB" in answer.json()["detail"]


def test_a_refused_type_lists_the_allowed_ones(client: TestClient, dev: Dev) -> None:
    answer = presign(client, dev, {"name": "a.pdf", "size": 10, "type": "application/pdf"})
    assert answer.status_code == 415
    assert answer.json()["detail"] == "a.pdf is application/pdf; this project accepts image/*."


@pytest.mark.parametrize(
    ("file", "field"),
    [
        ({"name": "a.png", "size": 0, "type": "image/png"}, "files.0.size"),
        ({"name": "a.png", "size": -5, "type": "image/png"}, "files.0.size"),
        ({"name": "a.png", "size": 2**70, "type": "image/png"}, "files.0.size"),
        ({"name": "a.png", "size": "12", "type": "image/png"}, "files.0.size"),
        ({"name": "", "size": 1, "type": "image/png"}, "files.0.name"),
        ({"name": "a\x00.png", "size": 1, "type": "image/png"}, "files[0].name"),
        ({"name": "a.png", "size": 1, "type": "png"}, "files.0.type"),
        ({"name": "a.png", "size": 1, "type": "image/png", "extra": 1}, "files.0.extra"),
    ],
)
def test_malformed_files_are_422_field_by_field(
    client: TestClient, dev: Dev, file: dict[str, Any], field: str
) -> None:
    answer = presign(client, dev, file)
    assert answer.status_code == 422
    # Storability (NUL) is checked over the whole body first: the message names the field.
    said = [f"{e['field']} {e['message']}" for e in answer.json()["errors"]]
    assert any(field in line for line in said), said


def test_file_counts_over_the_limits(client: TestClient, dev: Dev, session: Session) -> None:
    one = {"name": "a.png", "size": 10, "type": "image/png"}
    assert client.post("/api/uploads", json={"files": []}, headers=dev.headers).status_code == 422
    huge = presign(client, dev, *([one] * 10_000))
    assert huge.status_code == 422
    over_project = presign(client, dev, *([one] * 11))
    assert over_project.status_code == 422
    assert "max_files_per_upload" in over_project.json()["detail"]
    assert session.exec(select(Upload)).all() == []  # nothing written for a refused request
    assert client.post("/api/uploads", content=b"{", headers=dev.headers).status_code == 422


def test_names_with_paths_and_unicode_make_safe_keys(client: TestClient, dev: Dev) -> None:
    up = presign_one(client, dev, "../../etc/passwd.png", b"x", "image/png")
    assert up["key"].endswith("/passwd.png") and ".." not in up["key"]
    up = presign_one(client, dev, "C:\\Users\\me\\Фото 写真 ünï.png", b"x", "image/png")
    assert up["key"].endswith("/uni.png")
    got = client.get(f"/api/uploads/{up['id']}", headers=dev.headers).json()
    assert got["name"] == "Фото 写真 ünï.png"
    up = presign_one(client, dev, "\u202e\u200bgnp.exe", b"x", "image/png")
    assert up["key"].split("/")[-1] == "gnp.exe"


def test_the_monthly_quota_counts_every_project_of_the_owner(
    client: TestClient, dev: Dev, session: Session
) -> None:
    other = api_keys.create_key(session, owner=dev.user, project_name="Other").project_id
    now = utcnow()
    session.add_all(
        Upload(
            id=f"up_old{i}",
            project_id=other,
            name="a.png",
            size=1,
            content_type="image/png",
            storage_key=f"p/{other}/up_old{i}/a.png",
            url_expires_at=now,
            created_at=now,
        )
        for i in range(999)
    )
    session.commit()
    one = {"name": "a.png", "size": 10, "type": "image/png"}
    answer = presign(client, dev, one, one)
    assert answer.status_code == 429
    assert "1,000 uploads a month" in answer.json()["detail"]
    assert int(answer.headers["retry-after"]) > 0
    assert presign(client, dev, one).status_code == 200


def test_the_project_rate_limit_answers_429_with_retry_after(client: TestClient, dev: Dev) -> None:
    one = {"name": "a.png", "size": 10, "type": "image/png"}
    for _ in range(60):  # the Free plan's upload_rate
        assert presign(client, dev, one).status_code == 200
    answer = presign(client, dev, one)
    assert answer.status_code == 429
    assert "60/minute" in answer.json()["detail"] and int(answer.headers["retry-after"]) >= 1


# --- auth ---------------------------------------------------------------------------------------


def test_missing_wrong_revoked_and_underscoped_keys(
    client: TestClient, dev: Dev, session: Session
) -> None:
    one = {"files": [{"name": "a.png", "size": 10, "type": "image/png"}]}
    assert client.post("/api/uploads", json=one).status_code == 401
    wrong = client.post("/api/uploads", json=one, headers={"Authorization": "Bearer jc_nope"})
    assert wrong.status_code == 401 and "secret key" in wrong.json()["detail"]

    read_only = api_keys.create_key(session, owner=dev.user, project_name="Site")
    row = session.get(ApiKey, read_only.key_id)
    assert row is not None
    row.scopes = "read"
    session.add(row)
    session.commit()
    headers = {"Authorization": f"Bearer {read_only.key}"}
    denied = client.post("/api/uploads", json=one, headers=headers)
    assert denied.status_code == 403 and "'upload' scope" in denied.json()["detail"]
    assert client.get("/api/uploads", headers=headers).status_code == 200

    api_keys.revoke_key(session, owner=dev.user, key_id=dev.key_id)
    session.commit()
    assert client.post("/api/uploads", json=one, headers=dev.headers).status_code == 401
    assert client.get("/api/uploads", headers=dev.headers).status_code == 401


def test_another_projects_upload_is_not_found(
    client: TestClient, dev: Dev, session: Session
) -> None:
    data = png_bytes()
    up = presign_one(client, dev, "a.png", data, "image/png")
    put(client, up["url"], data, up["headers"])
    stranger = Dev(session, "other@example.com")
    for answer in (
        complete(client, stranger, up["id"]),
        client.get(f"/api/uploads/{up['id']}", headers=stranger.headers),
        client.delete(f"/api/uploads/{up['id']}", headers=stranger.headers),
    ):
        assert answer.status_code == 404 and answer.json()["detail"] == (
            "No such upload in this project."
        )
    assert client.get("/api/uploads", headers=stranger.headers).json()["uploads"] == []
    assert complete(client, dev, up["id"]).json()["status"] == "ready"


# --- client tokens -----------------------------------------------------------------------------


def test_a_client_token_presigns_and_completes_only(
    client: TestClient, dev: Dev, session: Session
) -> None:
    minted = client.post(
        "/api/uploads/client-tokens", json={"expires_in": 120}, headers=dev.headers
    )
    assert minted.status_code == 201
    token = minted.json()["token"]
    assert token.startswith("jct_") and dev.key not in token
    browser = {"Authorization": f"Bearer {token}"}
    data = png_bytes()
    answer = client.post(
        "/api/uploads",
        json={"files": [{"name": "a.png", "size": len(data), "type": "image/png"}]},
        headers=browser,
    )
    assert answer.status_code == 200
    up = answer.json()["uploads"][0]
    put(client, up["url"], data, up["headers"])
    done = client.post(f"/api/uploads/{up['id']}/complete", headers=browser)
    assert done.status_code == 200 and done.json()["status"] == "ready"

    # Nothing else takes it: not the log, one upload, delete, minting more, nor the rest.
    assert client.get("/api/uploads", headers=browser).status_code == 401
    assert client.get(f"/api/uploads/{up['id']}", headers=browser).status_code == 401
    assert client.delete(f"/api/uploads/{up['id']}", headers=browser).status_code == 401
    assert client.post("/api/uploads/client-tokens", headers=browser).status_code == 401
    assert client.get("/api/generations", headers=browser).status_code == 401

    # It dies with its key.
    api_keys.revoke_key(session, owner=dev.user, key_id=dev.key_id)
    session.commit()
    one = {"files": [{"name": "b.png", "size": 10, "type": "image/png"}]}
    assert client.post("/api/uploads", json=one, headers=browser).status_code == 401
    refused = client.post(f"/api/uploads/{up['id']}/complete", headers=browser)
    assert refused.status_code == 401 and "client token" in refused.json()["detail"]


def test_forged_expired_and_foreign_client_tokens_are_refused(
    client: TestClient, dev: Dev, session: Session
) -> None:
    auth = KeyAuth(project_id=dev.project_id, key_id=dev.key_id, scopes=frozenset({"upload"}))
    expired = client_tokens.mint_client_token(auth, now=utcnow() - timedelta(hours=2)).token
    good = client_tokens.mint_client_token(auth).token
    head, payload, sig = good[4:].split(".")
    forged = f"jct_{head}.{payload}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    other_project = KeyAuth(project_id=dev.project_id + 1, key_id=dev.key_id, scopes=auth.scopes)
    mismatched = client_tokens.mint_client_token(other_project).token
    one = {"files": [{"name": "a.png", "size": 10, "type": "image/png"}]}
    for token in (expired, forged, mismatched, "jct_", "jct_a.b.c"):
        answer = client.post("/api/uploads", json=one, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
    assert (
        client.post(
            "/api/uploads", json=one, headers={"Authorization": f"Bearer {good}"}
        ).status_code
        == 200
    )


@pytest.mark.parametrize("expires_in", [0, 59, 3601, "600", 1.5])
def test_client_token_lifetimes_outside_60_to_3600_are_422(
    client: TestClient, dev: Dev, expires_in: Any
) -> None:
    answer = client.post(
        "/api/uploads/client-tokens", json={"expires_in": expires_in}, headers=dev.headers
    )
    assert answer.status_code == 422


# --- the local store's signed PUT ---------------------------------------------------------------


def test_expired_and_forged_upload_links_are_403(client: TestClient, dev: Dev) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    key = f"p/{dev.project_id}/up_x/a.png"
    url = urlsplit(storage.presigned_put_url(key, content_type="image/png"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    stale = int(query["expires"]) - 7200
    expired = query | {
        "expires": str(stale),
        "sig": storage.sign("PUT", key, stale, content_type="image/png"),
    }
    answer = client.put(
        f"{url.path}?{urlencode(expired)}", content=b"x", headers={"Content-Type": "image/png"}
    )
    assert answer.status_code == 403 and answer.json()["detail"].startswith("This link has expired")
    forged = query | {"sig": "0" * 64}
    answer = client.put(
        f"{url.path}?{urlencode(forged)}", content=b"x", headers={"Content-Type": "image/png"}
    )
    assert answer.status_code == 403 and "invalid" in answer.json()["detail"]
    other_type = client.put(
        f"{url.path}?{url.query}", content=b"x", headers={"Content-Type": "text/html"}
    )
    assert other_type.status_code == 403
    assert not storage.exists(key)


def test_a_part_link_only_uploads_its_part(client: TestClient, dev: Dev) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    key = f"p/{dev.project_id}/up_y/big.bin"
    upload_id = storage.create_multipart(key, content_type="application/octet-stream")
    url = urlsplit(storage.presigned_part_url(key, upload_id=upload_id, part_number=1))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    as_part_two = query | {"part_number": "2"}
    assert client.put(f"{url.path}?{urlencode(as_part_two)}", content=b"x").status_code == 403
    without_part = {k: v for k, v in query.items() if k != "part_number"}
    assert client.put(f"{url.path}?{urlencode(without_part)}", content=b"x").status_code == 403
    ok = client.put(f"{url.path}?{url.query}", content=b"hello")
    assert ok.status_code == 200 and ok.headers["etag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    storage.abort_multipart(key, upload_id=upload_id)
    gone = client.put(f"{url.path}?{url.query}", content=b"hello")
    assert gone.status_code == 404


# --- the log, get, delete ----------------------------------------------------------------------


def test_the_log_filters_and_pages_newest_first(
    client: TestClient, dev: Dev, session: Session
) -> None:
    base = utcnow() - timedelta(days=3)
    for i in range(7):
        session.add(
            Upload(
                id=f"up_{i:02d}",
                project_id=dev.project_id,
                name=f"{'cat' if i % 2 else 'dog'}_{i}%.png",
                size=10,
                content_type="image/png" if i < 5 else "application/pdf",
                storage_key=f"p/{dev.project_id}/up_{i:02d}/a.png",
                status="ready" if i % 3 else "rejected",
                url_expires_at=base,
                created_at=base + timedelta(hours=i if i != 6 else 5),  # 5 and 6 tie
            )
        )
    session.commit()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/uploads", params=params, headers=dev.headers).json()
        seen += [u["id"] for u in page["uploads"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["up_06", "up_05", "up_04", "up_03", "up_02", "up_01", "up_00"]

    def ids(**params: Any) -> list[str]:
        answer = client.get("/api/uploads", params=params, headers=dev.headers)
        assert answer.status_code == 200, answer.text
        return [u["id"] for u in answer.json()["uploads"]]

    assert ids(status="rejected") == ["up_06", "up_03", "up_00"]
    assert ids(type="application/pdf") == ["up_06", "up_05"]
    assert ids(type="image/*") == ["up_04", "up_03", "up_02", "up_01", "up_00"]
    assert ids(name="CAT") == ["up_05", "up_03", "up_01"]
    assert ids(name="%") == ["up_06", "up_05", "up_04", "up_03", "up_02", "up_01", "up_00"]
    assert ids(name="_5%") == ["up_05"]
    after = (base + timedelta(hours=4)).isoformat()
    before = (base + timedelta(hours=5)).isoformat()
    assert ids(created_after=after, created_before=before) == ["up_04"]
    bad = client.get("/api/uploads", params={"cursor": "nope!"}, headers=dev.headers)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]
    assert client.get("/api/uploads", params={"limit": 101}, headers=dev.headers).status_code == 422
    assert (
        client.get("/api/uploads", params={"status": "gone"}, headers=dev.headers).status_code
        == 422
    )


def test_delete_takes_the_manage_scope_and_removes_everything(
    client: TestClient, dev: Dev, session: Session
) -> None:
    data = png_bytes()
    up = presign_one(client, dev, "a.png", data, "image/png")
    put(client, up["url"], data, up["headers"])
    complete(client, dev, up["id"])
    storage = get_storage()
    thumb = f"p/{dev.project_id}/{up['id']}/thumb.webp"
    storage.put_bytes(thumb, b"thumb", content_type="image/webp")
    row = session.get(Upload, up["id"])
    assert row is not None
    row.thumbnail_key = thumb
    session.add(row)
    session.commit()

    uploader_only = api_keys.create_key(session, owner=dev.user, project_name="Site")
    key_row = session.get(ApiKey, uploader_only.key_id)
    assert key_row is not None
    key_row.scopes = "upload,read"
    session.add(key_row)
    session.commit()
    denied = client.delete(
        f"/api/uploads/{up['id']}", headers={"Authorization": f"Bearer {uploader_only.key}"}
    )
    assert denied.status_code == 403 and "'manage' scope" in denied.json()["detail"]

    gone = client.delete(f"/api/uploads/{up['id']}", headers=dev.headers)
    assert gone.status_code == 200 and gone.json()["id"] == up["id"]
    assert not storage.exists(up["key"]) and not storage.exists(thumb)
    session.expire_all()
    assert session.get(Upload, up["id"]) is None
    assert [e for e, _ in events(session)] == ["upload.completed", "upload.deleted"]
    assert client.get(f"/api/uploads/{up['id']}", headers=dev.headers).status_code == 404
    assert client.delete(f"/api/uploads/{up['id']}", headers=dev.headers).status_code == 404


# --- CORS ---------------------------------------------------------------------------------------


def test_browsers_on_other_origins_may_presign_complete_and_put_only(
    client: TestClient, dev: Dev
) -> None:
    origin = {"Origin": "https://customer.test"}

    def preflight(path: str, method: str) -> Response:
        return client.options(
            path,
            headers=origin
            | {
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )

    for path, method in (
        ("/api/uploads", "POST"),
        ("/api/uploads/up_abc/complete", "POST"),
        ("/api/files/p/1/up_abc/a.png", "PUT"),
    ):
        answer = preflight(path, method)
        assert answer.status_code == 204, path
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "Authorization" in answer.headers["access-control-allow-headers"]
        assert "access-control-allow-credentials" not in answer.headers
    for path, method in (("/api/uploads", "GET"), ("/api/uploads/client-tokens", "POST")):
        assert "access-control-allow-origin" not in preflight(path, method).headers, path
    listed = client.get("/api/uploads", headers=dev.headers | origin)
    assert "access-control-allow-origin" not in listed.headers

    data = png_bytes()
    answer = client.post(
        "/api/uploads",
        json={"files": [{"name": "a.png", "size": len(data), "type": "image/png"}]},
        headers=dev.headers | origin,
    )
    assert answer.headers["access-control-allow-origin"] == "*"
    up = answer.json()["uploads"][0]
    stored = put(client, up["url"], data, up["headers"] | origin)
    assert stored.headers["access-control-expose-headers"] == "ETag"

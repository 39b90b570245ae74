"""`/api/jobs`: submit, follow, download, cancel, estimate; and every bad request's answer."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import api_keys, auth
from app.services.billing import pricing
from app.services.core import rate_limits
from app.services.core.models import User
from app.services.studio import jobs
from app.settings import reset_settings
from tests.utils.job_helpers import PASSWORD, RESIZE_WEBP, make_user, photo, run_queue, zip_of

SPEC = json.dumps(RESIZE_WEBP)


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=50)


@pytest.fixture
def key(session: Session, ada: User) -> dict[str, str]:
    new = api_keys.create_key(session, owner=ada, name="studio")
    session.commit()
    return {"Authorization": f"Bearer {new.key}"}


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    rate_limits.reset_policies()
    rate_limits.reset_counters()


def _submit(
    client: TestClient,
    headers: dict[str, str],
    files: list[tuple[str, bytes]],
    *,
    spec: str | None = SPEC,
    mode: str | None = None,
) -> Any:
    data = {}
    if spec is not None:
        data["spec"] = spec
    if mode is not None:
        data["mode"] = mode
    return client.post(
        "/api/jobs",
        headers=headers,
        data=data,
        files=[("files", (name, body, "application/octet-stream")) for name, body in files],
    )


def test_submit_follow_download_with_an_api_key(client: TestClient, key: dict[str, str]) -> None:
    response = _submit(client, key, [("a.jpg", photo()), ("b.jpg", photo()), ("c.txt", b"text")])
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["status"], job["mode"], job["total"], job["failed"]) == ("queued", "now", 3, 1)
    assert [i["status"] for i in job["items"]] == ["queued", "queued", "failed"]

    run_queue()
    status = client.get(f"/api/jobs/{job['id']}", headers=key).json()
    assert (status["status"], status["done"], status["failed"], status["percent"]) == (
        "done",
        2,
        1,
        100,
    )
    output = status["items"][0]["outputs"][0]
    assert (output["name"], output["media_type"], output["width"]) == ("a.webp", "image/webp", 64)
    assert client.get(output["url"]).status_code == 200  # the signed storage URL serves the file
    assert "not a supported image" in status["items"][2]["error"]

    listed = client.get("/api/jobs", headers=key).json()
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["items"] == []

    download = client.get(f"/api/jobs/{job['id']}/download", headers=key)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert f"jsoncraft-job-{job['id']}.zip" in download.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert sorted(archive.namelist()) == ["a.webp", "b.webp", "errors.txt"]
    assert "c.txt" in archive.read("errors.txt").decode()


def test_the_session_cookie_works_too_and_batch_is_cheaper(
    client: TestClient, session: Session, ada: User
) -> None:
    admin = make_user(session, "boss@example.com", role="admin")
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=3)
    session.commit()
    signed = auth.authenticate(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    cookie = {"Authorization": f"Bearer {signed.token}"}
    estimate = client.post(
        "/api/jobs/estimate", headers=cookie, json={"spec": RESIZE_WEBP, "count": 3}
    )
    assert estimate.status_code == 200
    assert estimate.json()["now_total"] == 9 and estimate.json()["batch_total"] == 5
    response = _submit(client, cookie, [("a.jpg", photo())] * 3, mode="batch")
    assert response.status_code == 202, response.text
    assert response.json()["credits_reserved"] == 5


def test_cancel_a_queued_job_twice(client: TestClient, key: dict[str, str]) -> None:
    job = _submit(client, key, [("a.jpg", photo())]).json()
    first = client.delete(f"/api/jobs/{job['id']}", headers=key)
    second = client.delete(f"/api/jobs/{job['id']}", headers=key)
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert second.json()["cancelled"] == 1


def test_download_before_anything_finished_is_a_conflict(
    client: TestClient, key: dict[str, str]
) -> None:
    job = _submit(client, key, [("a.jpg", photo())]).json()
    response = client.get(f"/api/jobs/{job['id']}/download", headers=key)
    assert response.status_code == 409
    assert "Nothing to download yet" in response.json()["detail"]


def test_other_users_jobs_are_404(
    client: TestClient, session: Session, key: dict[str, str]
) -> None:
    job = _submit(client, key, [("a.jpg", photo())]).json()
    eve = make_user(session, "eve@example.com")
    eve_key = {"Authorization": f"Bearer {api_keys.create_key(session, owner=eve, name='x').key}"}
    session.commit()
    for method, path in (
        ("GET", f"/api/jobs/{job['id']}"),
        ("GET", f"/api/jobs/{job['id']}/download"),
        ("DELETE", f"/api/jobs/{job['id']}"),
    ):
        response = client.request(method, path, headers=eve_key)
        assert response.status_code == 404 and response.json()["detail"] == "No job with that id."
    assert client.get("/api/jobs", headers=eve_key).json() == []
    assert client.get(f"/api/jobs/{job['id']}").status_code == 401


@pytest.mark.parametrize(
    ("spec", "files", "status", "words"),
    [
        ('{"resize": ', [("a.jpg", photo())], 422, "not valid JSON"),
        ('{"resize": {"mode": "fit"}}', [("a.jpg", photo())], 422, "resize"),
        ("{}", [("a.jpg", photo())], 422, "at least one operation"),
        (None, [("a.jpg", photo())], 422, "JSON form field `spec`"),
        (SPEC, [], 422, "Attach one or more images"),
        (SPEC, [("a.txt", b"hello"), ("b.bin", b"\x00" * 10)], 422, "None of the 2 files"),
        (SPEC, [("a.jpg", photo())] * 26, 429, "Free plan runs up to 25 images"),
        (SPEC, [("z.zip", zip_of(*[(f"{i}.jpg", photo((8, 8))) for i in range(26)]))], 429, "25"),
    ],
)
def test_bad_submissions_get_a_clear_answer(
    client: TestClient,
    key: dict[str, str],
    spec: str | None,
    files: list[tuple[str, bytes]],
    status: int,
    words: str,
) -> None:
    response = _submit(client, key, files, spec=spec)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert client.get("/api/jobs", headers=key).json() == []


def test_a_bad_mode_is_refused(client: TestClient, key: dict[str, str]) -> None:
    response = _submit(client, key, [("a.jpg", photo())], mode="whenever")
    assert response.status_code == 422 and "now" in response.json()["detail"]


def test_the_concurrent_job_limit_answers_429(client: TestClient, key: dict[str, str]) -> None:
    assert _submit(client, key, [("a.jpg", photo())]).status_code == 202
    second = _submit(client, key, [("b.jpg", photo())])
    assert second.status_code == 429 and "1 job at a time" in second.json()["detail"]


def test_insufficient_credits_answers_402(
    client: TestClient, session: Session, key: dict[str, str]
) -> None:
    admin = make_user(session, "boss@example.com", role="admin")
    pricing.set_price(session, actor=admin, key="op:studio_ocr", credits=30)
    session.commit()
    response = _submit(client, key, [("a.jpg", photo()), ("b.jpg", photo())], spec='{"ocr": true}')
    assert response.status_code == 402
    assert "costs 60 credits" in response.json()["detail"]


def test_a_huge_upload_is_refused_with_413(
    client: TestClient, key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "20000")
    reset_settings()
    big = photo((600, 600)) + b"\x00" * 30000
    response = _submit(client, key, [("big.jpg", big)])
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    # Several files under the limit each, over it together.
    small = photo((32, 32))
    many = _submit(client, key, [(f"{i}.jpg", small + b"\x00" * 4000) for i in range(6)])
    assert many.status_code == 413
    assert client.get("/api/jobs", headers=key).json() == []


def test_job_creation_is_rate_limited(client: TestClient, key: dict[str, str]) -> None:
    rate_limits.set_policy("paid", user="1/minute")
    assert _submit(client, key, [("a.jpg", photo())]).status_code == 202
    again = _submit(client, key, [("a.jpg", photo())])
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0


def test_estimate_refuses_a_bad_spec_or_count(client: TestClient, key: dict[str, str]) -> None:
    bad_spec = client.post("/api/jobs/estimate", headers=key, json={"spec": {}, "count": 1})
    assert bad_spec.status_code == 422 and "operation" in bad_spec.json()["detail"]
    bad_count = client.post(
        "/api/jobs/estimate", headers=key, json={"spec": RESIZE_WEBP, "count": -1}
    )
    assert bad_count.status_code == 422


def test_jobs_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/jobs"]) and "delete" in paths["/api/jobs/{job_id}"]
    body = paths["/api/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert set(body["schema"]["properties"]) == {"spec", "mode", "files"}
    assert jobs.PRIORITY["now"] > jobs.PRIORITY["batch"]

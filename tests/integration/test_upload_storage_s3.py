"""The upload platform's storage calls against a real S3 server that checks SigV4 (SeaweedFS):
HEAD, prefix reads, a multipart upload PUT part by part with httpx to presigned URLs, and the
upload API's presign -> PUT -> complete with the app on S3.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import api_keys
from app.services.core import rate_limits
from app.services.core.errors import ConflictError, NotFoundError
from app.services.core.models import Project
from app.services.core.storage import S3Storage
from app.settings import reset_settings
from tests.integration.conftest import S3Server
from tests.utils.job_helpers import make_user

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


@pytest.fixture
def s3(s3_server: S3Server) -> S3Storage:
    storage = S3Storage(
        bucket=f"uploads-{uuid.uuid4().hex[:12]}",
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
    )
    storage.ensure_bucket()
    return storage


def test_head_and_prefix(s3: S3Storage) -> None:
    data = os.urandom(5000)
    s3.put_bytes("p/1/up_a/a.bin", data, content_type="application/x-thing")
    head = s3.head("p/1/up_a/a.bin")
    assert head.size == 5000 and head.content_type == "application/x-thing"
    assert head.etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.read_prefix("p/1/up_a/a.bin", 16) == data[:16]
    assert s3.read_prefix("p/1/up_a/a.bin", 10_000) == data
    s3.put_bytes("p/1/up_a/empty", b"", content_type="text/plain")
    assert s3.read_prefix("p/1/up_a/empty", 64) == b""
    assert s3.head("p/1/up_a/empty").size == 0
    with pytest.raises(NotFoundError):
        s3.head("p/1/up_a/missing")
    with pytest.raises(NotFoundError):
        s3.read_prefix("p/1/up_a/missing", 10)


def test_a_multipart_upload_put_with_httpx_to_presigned_part_urls(s3: S3Storage) -> None:
    key = "p/1/up_big/video.bin"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)]
    upload_id = s3.create_multipart(key, content_type="application/octet-stream")
    etags: list[tuple[int, str]] = []
    with httpx.Client(timeout=60) as http:
        for number, body in enumerate(parts, start=1):
            url = s3.presigned_part_url(key, upload_id=upload_id, part_number=number)
            answer = http.put(url, content=body)
            assert answer.status_code == 200, answer.text
            etags.append((number, answer.headers["etag"]))
        assert etags[0][1] == f'"{hashlib.md5(parts[0]).hexdigest()}"'

        forged = [(1, '"' + "0" * 32 + '"'), *etags[1:]]
        with pytest.raises(ConflictError):
            s3.complete_multipart(key, upload_id=upload_id, parts=forged)
        s3.complete_multipart(key, upload_id=upload_id, parts=etags)
    assert s3.head(key).size == sum(len(p) for p in parts)
    assert s3.read_bytes(key) == b"".join(parts)


def test_an_aborted_upload_takes_no_more_parts(s3: S3Storage) -> None:
    key = "p/1/up_gone/a.bin"
    upload_id = s3.create_multipart(key, content_type="application/octet-stream")
    url = s3.presigned_part_url(key, upload_id=upload_id, part_number=1)
    s3.abort_multipart(key, upload_id=upload_id)
    s3.abort_multipart(key, upload_id=upload_id)  # idempotent
    assert httpx.put(url, content=b"late", timeout=30).status_code == 404
    assert not s3.exists(key)


@pytest.fixture
def app_on_s3(
    s3: S3Storage, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> TestClient:
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("S3_REGION", s3_server.region)
    monkeypatch.setenv("S3_BUCKET", s3.bucket)
    monkeypatch.setenv("S3_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    reset_settings()
    rate_limits.reset_counters()
    return TestClient(create_api(), raise_server_exceptions=False)


def test_the_upload_api_on_s3(app_on_s3: TestClient, s3: S3Storage, session: Session) -> None:
    owner = make_user(session, "dev@example.com", plan="pro")
    new = api_keys.create_key(session, owner=owner)
    project = session.get(Project, new.project_id)
    assert project is not None
    project.allowed_types, project.max_file_size = ["application/pdf", "image/*"], 100 * MiB
    session.add(project)
    session.commit()
    auth = {"Authorization": f"Bearer {new.key}"}
    pdf = b"%PDF-1.7\n" + os.urandom(70 * MiB)
    lie = b"%PDF-1.7\n" + os.urandom(100)
    answer = app_on_s3.post(
        "/api/uploads",
        json={
            "files": [
                {"name": "big.pdf", "size": len(pdf), "type": "application/pdf"},
                {"name": "lie.png", "size": len(lie), "type": "image/png"},
            ]
        },
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    big, small = answer.json()["uploads"]
    assert big["multipart"] and small["multipart"] is None
    with httpx.Client(timeout=120) as http:
        # The single PUT must carry the signed Content-Type header.
        assert http.put(small["url"], content=lie).status_code == 403
        assert http.put(small["url"], content=lie, headers=small["headers"]).status_code == 200
        size = big["multipart"]["part_size"]
        listed = []
        for part in big["multipart"]["parts"]:
            n = part["part_number"]
            put = http.put(part["url"], content=pdf[(n - 1) * size : n * size])
            assert put.status_code == 200, put.text
            listed.append({"part_number": n, "etag": put.headers["etag"]})

    done = app_on_s3.post(
        f"/api/uploads/{big['id']}/complete", json={"parts": listed}, headers=auth
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ready" and done.json()["type"] == "application/pdf"
    assert s3.head(big["key"]).size == len(pdf)
    link = app_on_s3.get(f"/api/uploads/{big['id']}", headers=auth).json()["url"]
    got = httpx.get(link, headers={"Range": "bytes=0-99"}, timeout=30)
    assert got.status_code == 206 and got.content == pdf[:100]

    rejected = app_on_s3.post(f"/api/uploads/{small['id']}/complete", headers=auth).json()
    assert rejected["status"] == "rejected" and "application/pdf" in rejected["reason"]
    assert not s3.exists(small["key"])

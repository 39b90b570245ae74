"""A project's own bucket against a real S3 server that checks SigV4 (SeaweedFS): the
connection test step by step, and public copies with their cache headers."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session

from app.services.accounts.api_keys import create_key
from app.services.core.models import Project, Upload, User, utcnow
from app.services.core.storage import S3Storage
from app.services.uploads import buckets
from app.services.uploads.bucket_check import PROBE_PREFIX, run_connection_test
from app.services.uploads.cdn import IMMUTABLE, public_url, publish
from app.settings import reset_settings
from tests.integration.conftest import S3Server
from tests.utils.job_helpers import make_user

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def allow_loopback_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKET_ALLOW_PRIVATE_ENDPOINTS", "true")
    reset_settings()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = f"project-{uuid.uuid4().hex[:12]}"
    S3Storage(
        bucket=name,
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
    ).ensure_bucket()
    return name


def _project_with_bucket(
    session: Session, server: S3Server, bucket: str, *, secret: str | None = None
) -> tuple[User, Project]:
    owner = make_user(session, f"{uuid.uuid4().hex[:8]}@example.com")
    project_id = create_key(session, owner=owner, project_name="Site").project_id
    buckets.save_bucket(
        session,
        owner=owner,
        project_id=project_id,
        endpoint=server.endpoint_url,
        bucket=bucket,
        region=server.region,
        addressing="path",
        access_key_id=server.access_key_id,
        secret_access_key=secret or server.secret_access_key,
    )
    project = session.get(Project, project_id)
    assert project is not None
    return owner, project


def _objects(server: S3Server, bucket: str) -> list[str]:
    storage = S3Storage(
        bucket=bucket,
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    )
    listed = storage.client.list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_good_bucket_passes_put_head_and_delete(
    session: Session, s3_server: S3Server, bucket: str
) -> None:
    owner, project = _project_with_bucket(session, s3_server, bucket)
    assert project.id is not None
    report = run_connection_test(session, owner=owner, project_id=project.id)
    assert [(s.step, s.status) for s in report.steps] == [
        ("put", "passed"),
        ("head", "passed"),
        ("delete", "passed"),
    ]
    assert report.ok and project.bucket_checked_at is not None
    assert not [key for key in _objects(s3_server, bucket) if key.startswith(PROBE_PREFIX)]


def test_a_wrong_secret_fails_at_put_and_says_why_without_the_secret(
    session: Session, s3_server: S3Server, bucket: str
) -> None:
    wrong = "definitely-not-the-secret-0123456789"
    owner, project = _project_with_bucket(session, s3_server, bucket, secret=wrong)
    assert project.id is not None
    report = run_connection_test(session, owner=owner, project_id=project.id)
    assert not report.ok and project.bucket_checked_at is None
    failed = report.failed_step
    assert failed is not None
    assert (failed.step, failed.code) == ("put", "SignatureDoesNotMatch")
    assert failed.detail.startswith("The secret access key is wrong")
    assert [s.status for s in report.steps] == ["failed", "skipped", "skipped"]
    for step in report.steps:
        assert wrong not in step.detail and s3_server.secret_access_key not in step.detail


def test_an_unknown_access_key_is_named(session: Session, s3_server: S3Server, bucket: str) -> None:
    # (A missing bucket can't be shown here: SeaweedFS creates one on the first put.)
    owner, project = _project_with_bucket(session, s3_server, bucket)
    assert project.id is not None
    buckets.save_bucket(
        session,
        owner=owner,
        project_id=project.id,
        endpoint=s3_server.endpoint_url,
        bucket=bucket,
        addressing="path",
        access_key_id="AKIAUNKNOWN000",
        secret_access_key="whatever-secret",
    )
    failed = run_connection_test(session, owner=owner, project_id=project.id).failed_step
    assert failed is not None and (failed.step, failed.code) == ("put", "InvalidAccessKeyId")


def test_a_dead_endpoint_fails_at_put_with_a_connection_error(
    session: Session, s3_server: S3Server, bucket: str
) -> None:
    owner, project = _project_with_bucket(session, s3_server, bucket)
    assert project.id is not None
    buckets.save_bucket(
        session,
        owner=owner,
        project_id=project.id,
        endpoint="http://127.0.0.1:9",  # discard port: nothing listens
        bucket=bucket,
        addressing="path",
    )
    failed = run_connection_test(session, owner=owner, project_id=project.id).failed_step
    assert failed is not None
    assert (failed.step, failed.code) == ("put", "ConnectionFailed")


def test_publish_copies_to_a_content_addressed_key_with_immutable_cache_headers(
    session: Session, s3_server: S3Server, bucket: str
) -> None:
    _, project = _project_with_bucket(session, s3_server, bucket)
    project.acl = "public-read"
    storage = buckets.storage_for_project(project)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    storage.put_bytes("incoming/up_1.png", data, content_type="application/octet-stream")
    assert project.id is not None
    upload = Upload(
        id="up_1",
        project_id=project.id,
        name="photo.png",
        size=len(data),
        content_type="application/octet-stream",  # what the client declared
        detected_type="image/png",  # what complete sniffed
        storage_key="incoming/up_1.png",
        status="ready",
        url_expires_at=utcnow() + timedelta(hours=1),
    )
    session.add(upload)
    session.flush()

    publish(project, upload)
    digest = hashlib.sha256(data).hexdigest()
    assert upload.sha256 == digest
    assert upload.cdn_key == f"cdn/{digest[:2]}/{digest}.png"
    assert isinstance(storage, S3Storage)
    head = storage.client.head_object(Bucket=bucket, Key=upload.cdn_key)
    assert head["CacheControl"] == IMMUTABLE
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(data)

    # Without a CDN, the public URL is a presigned link that serves the same headers.
    url = public_url(project, upload)
    assert url.startswith(f"{s3_server.endpoint_url}/{bucket}/{upload.cdn_key}?")
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == data
    assert answer.headers["cache-control"] == IMMUTABLE
    assert answer.headers["content-type"] == "image/png"

    # With the bucket's own CDN in front, the URL is the CDN's, on the same key.
    assert project.id is not None
    buckets.save_bucket(
        session,
        owner=session.get(User, project.owner_id),  # type: ignore[arg-type]
        project_id=project.id,
        endpoint=s3_server.endpoint_url,
        bucket=bucket,
        addressing="path",
        cdn_base_url="https://cdn.example.com",
    )
    assert public_url(project, upload) == f"https://cdn.example.com/{upload.cdn_key}"
    publish(project, upload)  # again: the copy is there, nothing changes
    assert storage.client.head_object(Bucket=bucket, Key=upload.cdn_key)["ETag"] == head["ETag"]

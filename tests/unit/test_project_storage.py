"""A project's own bucket (validation, sealed keys, the storage seam), CORS guidance, and
publishing public files to content-addressed keys (on the local store; S3 is in integration)."""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.services.accounts.api_keys import create_key
from app.services.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.core.models import Project, Upload, User, utcnow
from app.services.core.secret_box import open_secret
from app.services.core.storage import LocalStorage, S3Storage, get_storage
from app.services.uploads import buckets, cors
from app.services.uploads.bucket_check import check_connection, run_connection_test
from app.services.uploads.cdn import IMMUTABLE, cdn_key, public_url, publish, unpublish
from app.settings import reset_settings
from tests.utils.job_helpers import make_user

SECRET = "s3cr3t-Very-Secret-Value-0123456789"


def _project(session: Session) -> tuple[User, int]:
    owner = make_user(session, "dev@example.com")
    return owner, create_key(session, owner=owner, project_name="Site").project_id


def _save(session: Session, owner: User, project_id: int, **changes: str) -> buckets.BucketView:
    values = {
        "endpoint": "https://abc123.r2.cloudflarestorage.com",
        "bucket": "my-uploads",
        "region": "auto",
        "addressing": "path",
        "access_key_id": "AKIAEXAMPLE123",
        "secret_access_key": SECRET,
    }
    values.update(changes)
    return buckets.save_bucket(session, owner=owner, project_id=project_id, **values)


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKET_ALLOW_PRIVATE_ENDPOINTS", "true")
    reset_settings()


def test_a_saved_bucket_keeps_its_keys_sealed_and_shows_none(session: Session) -> None:
    owner, project_id = _project(session)
    view = _save(session, owner, project_id)
    assert view == buckets.BucketView(
        endpoint="https://abc123.r2.cloudflarestorage.com",
        bucket="my-uploads",
        region="auto",
        addressing="path",
        has_keys=True,
        cdn_base_url="",
        checked_at=None,
    )
    row = session.get(Project, project_id)
    assert row is not None and row.bucket_secret_key_enc and row.bucket_access_key_enc
    assert SECRET not in row.bucket_secret_key_enc
    assert "AKIAEXAMPLE123" not in row.bucket_access_key_enc
    assert open_secret(row.bucket_secret_key_enc) == SECRET
    assert SECRET not in repr(view)


def test_empty_key_fields_keep_the_saved_keys_and_one_can_be_replaced(session: Session) -> None:
    owner, project_id = _project(session)
    _save(session, owner, project_id)
    row = session.get(Project, project_id)
    assert row is not None
    sealed_access = row.bucket_access_key_enc
    _save(
        session, owner, project_id, bucket="renamed-bucket", access_key_id="", secret_access_key=""
    )
    assert row.bucket_name == "renamed-bucket" and row.bucket_access_key_enc == sealed_access
    assert open_secret(row.bucket_secret_key_enc or "") == SECRET
    _save(session, owner, project_id, access_key_id="", secret_access_key="a-new-secret")
    assert row.bucket_access_key_enc == sealed_access
    assert open_secret(row.bucket_secret_key_enc or "") == "a-new-secret"


def test_a_first_save_needs_both_keys(session: Session) -> None:
    owner, project_id = _project(session)
    with pytest.raises(InvalidInputError, match="both"):
        _save(session, owner, project_id, secret_access_key="")
    with pytest.raises(InvalidInputError, match="access key id and the secret"):
        _save(session, owner, project_id, secret_access_key="", access_key_id="")
    row = session.get(Project, project_id)
    assert row is not None and row.bucket_name is None  # nothing half-saved


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("endpoint", "http://s3.example.com", "https://"),
        ("endpoint", "https://127.0.0.1:9000", "public address"),
        ("endpoint", "https://localhost:9000", "public address"),
        ("endpoint", "https://10.0.0.5", "public address"),
        ("endpoint", "https://169.254.169.254", "public address"),
        ("endpoint", "https://[::1]:9000", "public address"),
        ("endpoint", "https://minio.local", "public address"),
        ("endpoint", "ftp://s3.example.com", "URL like"),
        ("endpoint", "s3.example.com", "URL like"),
        ("endpoint", "https://key:secret@s3.example.com", "own fields"),
        ("endpoint", "https://s3.example.com/?x=1", "query"),
        ("endpoint", "https://s3.example.com:99999", "port"),
        ("endpoint", "https://" + "a" * 500 + ".com", "too long"),
        ("bucket", "ab", "3 to 63"),
        ("bucket", "a" * 64, "3 to 63"),
        ("bucket", "My_Bucket", "lowercase"),
        ("bucket", "-bucket", "lowercase"),
        ("bucket", "my..bucket", "'..'"),
        ("bucket", "192.168.1.1", "IP address"),
        ("bucket", "xn--bucket", "reserves"),
        ("bucket", "bucket\x00x", "lowercase"),
        ("region", "us east 1", "region"),
        ("addressing", "dns", "auto, path or virtual"),
        ("access_key_id", "has space", "no spaces"),
        ("secret_access_key", "x" * 200, "no spaces"),
        ("cdn_base_url", "http://cdn.example.com", "https://"),
        ("cdn_base_url", "javascript:alert(1)", "https://"),
    ],
)
def test_bad_bucket_settings_get_a_clear_message_and_change_nothing(
    session: Session, field: str, value: str, message: str
) -> None:
    owner, project_id = _project(session)
    with pytest.raises(InvalidInputError, match=message):
        _save(session, owner, project_id, **{field: value})
    row = session.get(Project, project_id)
    assert row is not None and row.bucket_name is None and row.bucket_secret_key_enc is None


def test_private_and_http_endpoints_need_the_setting(session: Session, allow_private: None) -> None:
    owner, project_id = _project(session)
    view = _save(session, owner, project_id, endpoint="http://127.0.0.1:8333/")
    assert view.endpoint == "http://127.0.0.1:8333"


def test_an_empty_endpoint_means_aws_itself(session: Session) -> None:
    owner, project_id = _project(session)
    view = _save(session, owner, project_id, endpoint="", region="", addressing="")
    assert (view.endpoint, view.region, view.addressing) == ("", "us-east-1", "auto")
    project = session.get(Project, project_id)
    assert project is not None
    storage = buckets.storage_for_project(project)
    assert isinstance(storage, S3Storage) and storage.endpoint_url is None


def test_only_the_owner_saves_or_removes_a_bucket(session: Session) -> None:
    owner, project_id = _project(session)
    stranger = make_user(session, "other@example.com")
    with pytest.raises(NotFoundError):
        _save(session, stranger, project_id)
    _save(session, owner, project_id)
    with pytest.raises(NotFoundError):
        buckets.remove_bucket(session, owner=stranger, project_id=project_id)
    with pytest.raises(NotFoundError):
        run_connection_test(session, owner=stranger, project_id=project_id)


def test_storage_for_project_builds_the_projects_bucket_and_caches_it(session: Session) -> None:
    owner, project_id = _project(session)
    project = session.get(Project, project_id)
    assert project is not None
    assert isinstance(buckets.storage_for_project(project), type(get_storage()))
    _save(session, owner, project_id, cdn_base_url="https://cdn.example.com/")
    assert buckets.bucket_view(project).cdn_base_url == "https://cdn.example.com"  # type: ignore[union-attr]
    storage = buckets.storage_for_project(project)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.endpoint_url, storage.region) == (
        "my-uploads",
        "https://abc123.r2.cloudflarestorage.com",
        "auto",
    )
    assert storage.client.meta.config.s3["addressing_style"] == "path"
    credentials = storage.client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("AKIAEXAMPLE123", SECRET)
    assert buckets.storage_for_project(project) is storage  # the same config: the same client
    _save(session, owner, project_id, access_key_id="", secret_access_key="replaced-secret")
    replaced = buckets.storage_for_project(project)
    assert replaced is not storage
    assert replaced.client._request_signer._credentials.secret_key == "replaced-secret"  # type: ignore[attr-defined]

    buckets.remove_bucket(session, owner=owner, project_id=project_id)
    assert buckets.bucket_view(project) is None
    assert project.bucket_secret_key_enc is None and project.bucket_access_key_enc is None
    assert isinstance(buckets.storage_for_project(project), LocalStorage)


def test_virtual_addressing_reaches_the_bucket_by_host(session: Session) -> None:
    owner, project_id = _project(session)
    _save(session, owner, project_id, endpoint="https://s3.eu-west-1.amazonaws.com",
          addressing="virtual", region="eu-west-1")  # fmt: skip
    project = session.get(Project, project_id)
    assert project is not None
    storage = buckets.storage_for_project(project)
    url = storage.presigned_get_url("a/b.txt")
    assert url.startswith("https://my-uploads.s3.eu-west-1.amazonaws.com/a/b.txt?")


def test_connection_test_refuses_a_name_resolving_to_a_private_address(session: Session) -> None:
    """A plain name passes the save-time check; what it resolves to is checked before any
    request. This machine's own name resolves (through /etc/hosts) to a non-public address."""
    owner, project_id = _project(session)
    host = socket.gethostname()
    assert not buckets.is_private_host(host)
    assert any(buckets.is_private_host(str(i[4][0])) for i in socket.getaddrinfo(host, 443))
    _save(session, owner, project_id, endpoint=f"https://{host}")
    project = session.get(Project, project_id)
    assert project is not None
    report = check_connection(project)
    assert not report.ok
    failed = report.failed_step
    assert failed is not None and failed.step == "put"
    assert failed.code == "EndpointRefused"
    assert "private address" in failed.detail
    assert [s.status for s in report.steps] == ["failed", "skipped", "skipped"]


def test_cors_guidance_lists_the_origins_put_content_type_and_etag() -> None:
    origins = cors.parse_origins("https://app.example.com/some/page, http://localhost:3000\n\n"
                                 "https://APP.example.com")  # fmt: skip
    assert origins == ["https://app.example.com", "http://localhost:3000"]
    rule = json.loads(cors.cors_json(origins))["CORSRules"][0]
    assert rule["AllowedOrigins"] == origins
    assert rule["AllowedMethods"] == ["PUT"]
    assert rule["AllowedHeaders"] == ["Content-Type"]
    assert rule["ExposeHeaders"] == ["ETag"]
    assert cors.aws_cli_command(bucket="my-uploads", endpoint="https://x.example.com") == (
        "aws s3api put-bucket-cors --bucket my-uploads --cors-configuration file://cors.json"
        " --endpoint-url https://x.example.com"
    )
    for bad in ("example.com", "javascript:alert(1)", "https://"):
        with pytest.raises(InvalidInputError, match="not an origin"):
            cors.parse_origins(bad)
    with pytest.raises(InvalidInputError, match="at most"):
        cors.parse_origins(",".join(f"https://s{n}.example.com" for n in range(21)))


def _ready_upload(
    session: Session, project_id: int, data: bytes, upload_id: str = "up_1", **fields: str
) -> Upload:
    key = f"projects/{project_id}/{upload_id}.png"
    get_storage().put_bytes(key, data, content_type="image/png")
    upload = Upload(
        id=upload_id,
        project_id=project_id,
        name=fields.pop("name", "cat photo.png"),
        size=len(data),
        content_type="image/png",
        storage_key=key,
        status="ready",
        url_expires_at=utcnow() + timedelta(hours=1),
        **fields,
    )
    session.add(upload)
    session.flush()
    return upload


def test_publish_makes_a_content_addressed_copy_for_public_projects(session: Session) -> None:
    _, project_id = _project(session)
    project = session.get(Project, project_id)
    assert project is not None
    data = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
    digest = hashlib.sha256(data).hexdigest()

    private = _ready_upload(session, project_id, data)
    publish(project, private)
    assert private.sha256 == digest and private.cdn_key is None  # hashed, not made public
    assert "/api/files/" + private.storage_key in public_url(project, private)

    project.acl = "public-read"
    first = _ready_upload(session, project_id, data, "up_2", detected_type="image/png")
    twin = _ready_upload(session, project_id, data, "up_3", name="twin.png")
    publish(project, first)
    publish(project, twin)
    assert first.cdn_key == twin.cdn_key == f"cdn/{digest[:2]}/{digest}.png"
    assert get_storage().read_bytes(first.cdn_key) == data
    assert "/api/files/cdn/" in public_url(project, first)  # no CDN set: a signed link


def test_public_url_uses_the_cdn_base_url_when_set(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDN_BASE_URL", "https://cdn.example.com/")
    reset_settings()
    _, project_id = _project(session)
    project = session.get(Project, project_id)
    assert project is not None
    project.acl = "public-read"
    upload = publish(project, _ready_upload(session, project_id, b"GIF89a..."))
    assert public_url(project, upload) == f"https://cdn.example.com/{upload.cdn_key}"
    project.acl = "private"  # made private later: the CDN link is no longer handed out
    assert public_url(project, upload).startswith("http://localhost:8000/api/files/projects/")


def test_unpublish_keeps_a_copy_another_upload_still_shares(session: Session) -> None:
    _, project_id = _project(session)
    project = session.get(Project, project_id)
    assert project is not None
    project.acl = "public-read"
    a = publish(project, _ready_upload(session, project_id, b"same bytes"))
    b = publish(project, _ready_upload(session, project_id, b"same bytes", "up_2"))
    key = a.cdn_key
    assert key is not None and b.cdn_key == key
    unpublish(session, project, a)
    session.flush()
    assert a.cdn_key is None and get_storage().exists(key)
    unpublish(session, project, b)
    assert not get_storage().exists(key)


def test_only_ready_uploads_of_the_project_are_published(session: Session) -> None:
    _, project_id = _project(session)
    project = session.get(Project, project_id)
    assert project is not None
    upload = _ready_upload(session, project_id, b"abc")
    upload.status = "pending"
    with pytest.raises(ConflictError, match="ready"):
        publish(project, upload)
    with pytest.raises(ConflictError, match="not ready"):
        public_url(project, upload)
    upload.status, upload.project_id = "ready", project_id + 1
    with pytest.raises(ConflictError, match="another project"):
        publish(project, upload)


def test_cdn_keys_name_the_usual_extensions() -> None:
    digest = "ab" + "0" * 62
    assert cdn_key(digest, "image/jpeg") == f"cdn/ab/{digest}.jpg"
    assert cdn_key(digest, "application/x-unknown") == f"cdn/ab/{digest}.bin"
    assert cdn_key(digest, "text/plain; charset=utf-8") == f"cdn/ab/{digest}.txt"
    with pytest.raises(InvalidInputError):
        cdn_key("../../etc/passwd", "image/png")
    assert IMMUTABLE == "public, max-age=31536000, immutable"

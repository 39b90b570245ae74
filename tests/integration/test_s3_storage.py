"""S3Storage and image intake against a real S3-compatible server that checks signatures."""

from __future__ import annotations

import io
import os
import uuid

import httpx
import pytest
from PIL import Image
from sqlmodel import Session

from app.services.core.errors import NotFoundError, StorageError
from app.services.core.storage import S3Storage, get_storage
from app.services.images.intake import ingest_image
from app.settings import reset_settings
from tests.integration.conftest import S3Server

pytestmark = pytest.mark.integration


def _storage(server: S3Server, *, bucket: str, secret: str | None = None) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        endpoint_url=server.endpoint_url,
        region=server.region,
        access_key_id=server.access_key_id,
        secret_access_key=secret or server.secret_access_key,
    )


@pytest.fixture
def s3(s3_server: S3Server) -> S3Storage:
    """A fresh bucket per test, created through ensure_bucket."""
    storage = _storage(s3_server, bucket=f"jsoncraft-{uuid.uuid4().hex[:12]}")
    with pytest.raises(StorageError):
        storage.check()  # the bucket does not exist yet
    storage.ensure_bucket()
    storage.ensure_bucket()  # idempotent
    storage.check()
    return storage


class _GeneratedStream(io.RawIOBase):
    def __init__(self, total: int) -> None:
        self.remaining = total
        self.block = os.urandom(1024 * 1024)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        n = len(self.block) if size is None or size < 0 else size
        n = min(n, self.remaining, len(self.block))
        self.remaining -= n
        return self.block[:n]


def test_round_trip(s3: S3Storage) -> None:
    data = os.urandom(200_000)
    assert s3.put_bytes("a/b/c.bin", data, content_type="application/octet-stream") == len(data)
    assert s3.exists("a/b/c.bin")
    assert s3.size("a/b/c.bin") == len(data)
    assert s3.read_bytes("a/b/c.bin") == data
    s3.delete("a/b/c.bin")
    s3.delete("a/b/c.bin")
    assert not s3.exists("a/b/c.bin")
    with pytest.raises(NotFoundError):
        s3.open_stream("a/b/c.bin")
    with pytest.raises(NotFoundError):
        s3.size("a/b/c.bin")


def test_streamed_multipart_put(s3: S3Storage) -> None:
    total = 20 * 1024 * 1024 + 123  # above the multipart threshold, not a whole part
    written = s3.put_stream("big/file.bin", _GeneratedStream(total), content_type="x/y")  # type: ignore[arg-type]
    assert written == total
    assert s3.size("big/file.bin") == total
    assert sum(len(c) for c in s3.open_stream("big/file.bin")) == total


def test_presigned_get_and_put(s3: S3Storage) -> None:
    put_url = s3.presigned_put_url("up/pic.png", content_type="image/png", expires_in=60)
    r = httpx.put(put_url, content=b"\x89PNG data", headers={"Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    # The signed content type is enforced by the server.
    r = httpx.put(put_url, content=b"<html>", headers={"Content-Type": "text/html"})
    assert r.status_code == 403

    get_url = s3.presigned_get_url("up/pic.png", expires_in=60, download_name="my pic.png")
    r = httpx.get(get_url)
    assert r.status_code == 200
    assert r.content == b"\x89PNG data"
    assert r.headers["content-type"] == "image/png"
    assert "my%20pic.png" in r.headers.get("content-disposition", "")
    assert httpx.get(get_url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403
    assert httpx.get(get_url.split("?")[0]).status_code == 403  # unsigned


def test_wrong_secret_key_is_rejected(s3: S3Storage, s3_server: S3Server) -> None:
    s3.put_bytes("k.txt", b"hi", content_type="text/plain")
    wrong = _storage(s3_server, bucket=s3.bucket, secret="not-the-secret")
    with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
        wrong.read_bytes("k.txt")
    with pytest.raises(StorageError):
        wrong.put_bytes("k2.txt", b"x", content_type="text/plain")
    with pytest.raises(StorageError):
        wrong.check()


def test_ingest_image_into_s3(
    s3: S3Storage, s3_server: S3Server, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("S3_BUCKET", s3.bucket)
    monkeypatch.setenv("S3_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    reset_settings()
    storage = get_storage()
    assert isinstance(storage, S3Storage)

    out = io.BytesIO()
    Image.new("RGB", (1200, 800), "orange").save(out, format="JPEG")
    asset = ingest_image(
        session=session,
        storage=storage,
        owner_id=None,
        stream=io.BytesIO(out.getvalue()),
        filename="orange.jpg",
    )
    session.commit()
    assert (asset.width, asset.height, asset.mime_type) == (1200, 800, "image/jpeg")
    assert storage.read_bytes(asset.storage_key) == out.getvalue()
    assert asset.thumbnail_key
    thumb = httpx.get(storage.presigned_get_url(asset.thumbnail_key))
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(thumb.content)).size == (512, 341)

"""LocalStorage, key validation, signed URLs, and the local file routes."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import files
from app.services.core.errors import InvalidInputError, NotFoundError, StorageError
from app.services.core.storage import (
    LocalStorage,
    S3Storage,
    content_key,
    get_storage,
    validate_key,
)
from app.settings import Settings, get_settings, reset_settings

SHA = "ab" + "cd" + "0" * 60


@pytest.fixture
def storage(isolated_settings: Settings) -> LocalStorage:
    s = get_storage()
    assert isinstance(s, LocalStorage)
    return s


def Client() -> TestClient:  # noqa: N802  (reads like the class it stands for)
    app = FastAPI()
    app.include_router(files.router)
    return TestClient(app, base_url="http://test")


@pytest.fixture
def client(storage: LocalStorage) -> Client:
    return Client()


class _GeneratedStream(io.RawIOBase):
    """A file object that makes its bytes on demand, so a huge upload never exists in memory."""

    def __init__(self, total: int) -> None:
        self.remaining = total
        self.block = bytes(range(256)) * 4096  # 1 MiB

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        n = len(self.block) if size is None or size < 0 else size
        n = min(n, self.remaining, len(self.block))
        self.remaining -= n
        return self.block[:n]


# -- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../x",
        "/etc/passwd",
        "a/../../b",
        "a/./b",
        "a//b",
        "a/b/",
        "a\x00b",
        "a\\b",
        "..\\x",
        "a b",
        "é.png",
        "x" * 301,
    ],
)
def test_unsafe_keys_are_refused(key: str, storage: LocalStorage) -> None:
    with pytest.raises(InvalidInputError):
        validate_key(key)
    with pytest.raises(InvalidInputError):
        storage.put_bytes(key, b"x", content_type="text/plain")
    with pytest.raises(InvalidInputError):
        storage.presigned_get_url(key)


def test_content_key_fans_out_by_hash() -> None:
    assert content_key("originals", SHA, "jpg") == f"originals/ab/cd/{SHA}.jpg"
    assert content_key("thumbnails/", SHA.upper(), ".WEBP") == f"thumbnails/ab/cd/{SHA}.webp"
    with pytest.raises(InvalidInputError):
        content_key("originals", "not-a-hash", "jpg")
    with pytest.raises(InvalidInputError):
        content_key("originals", SHA, "j/pg")
    with pytest.raises(InvalidInputError):
        content_key("../originals", SHA, "jpg")


# -- local storage --------------------------------------------------------------------------


def test_round_trip(storage: LocalStorage) -> None:
    key = "originals/ab/cd/file.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
    assert storage.put_bytes(key, data, content_type="application/octet-stream") == len(data)
    assert storage.exists(key)
    assert storage.size(key) == len(data)
    assert storage.read_bytes(key) == data
    assert all(len(c) <= 1024 * 1024 for c in storage.open_stream(key))
    assert storage.path_for(key).is_relative_to(get_settings().storage_dir.resolve())
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting twice is fine


def test_missing_key_is_not_found(storage: LocalStorage) -> None:
    with pytest.raises(NotFoundError):
        storage.open_stream("nope/missing.png")
    with pytest.raises(NotFoundError):
        storage.read_bytes("nope/missing.png")
    with pytest.raises(NotFoundError):
        storage.size("nope/missing.png")
    assert not storage.exists("nope/missing.png")


def test_symlink_escape_is_refused(storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    storage.root.mkdir(parents=True, exist_ok=True)
    (storage.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInputError):
        storage.read_bytes("link/secret.txt")
    with pytest.raises(InvalidInputError):
        storage.put_bytes("link/new.txt", b"x", content_type="text/plain")
    assert not (outside / "new.txt").exists()


def test_write_is_atomic(storage: LocalStorage) -> None:
    key = "docs/a.txt"
    storage.put_bytes(key, b"old", content_type="text/plain")

    class Exploding(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int | None = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return b"new" * 1000

    with pytest.raises(StorageError):
        storage.put_stream(key, Exploding(), content_type="text/plain")  # type: ignore[arg-type]
    assert storage.read_bytes(key) == b"old"  # the old version is intact
    assert sorted(p.name for p in storage.path_for(key).parent.iterdir()) == ["a.txt"]  # no temp


def test_streamed_put_of_500_mb_stays_small_in_memory(storage: LocalStorage) -> None:
    total = 500 * 1024 * 1024
    tracemalloc.start()
    try:
        written = storage.put_stream(
            "big/file.bin",
            _GeneratedStream(total),  # type: ignore[arg-type]
            content_type="application/octet-stream",
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == total
    assert storage.size("big/file.bin") == total
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    storage.delete("big/file.bin")


def test_check_reports_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError):
        LocalStorage(blocker / "storage", "secret", "http://x").check()
    LocalStorage(tmp_path / "ok", "secret", "http://x").check()


def test_get_storage_follows_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(get_storage(), LocalStorage)
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "s")
    reset_settings()
    s3 = get_storage()
    assert isinstance(s3, S3Storage)
    assert s3.client.meta.config.s3["addressing_style"] == "path"
    url = s3.presigned_get_url("a/b.png", expires_in=60)
    assert url.startswith("http://127.0.0.1:1/jsoncraft/a/b.png?")
    assert "X-Amz-Signature=" in url  # signature v4
    with pytest.raises(StorageError):
        s3.check()  # nothing listens on port 1


# -- signatures -----------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_signature_ok_expired_forged_wrong_method(storage: LocalStorage) -> None:
    url = storage.presigned_get_url("a/b.png", expires_in=60)
    assert url.startswith("http://localhost:8000/api/files/a/b.png?")
    q = _query(url)
    assert storage.verify_signature("GET", "a/b.png", q["expires"], q["sig"])
    assert not storage.verify_signature("PUT", "a/b.png", q["expires"], q["sig"])
    assert not storage.verify_signature("GET", "a/c.png", q["expires"], q["sig"])
    assert not storage.verify_signature("GET", "a/b.png", int(q["expires"]) + 1, q["sig"])
    assert not storage.verify_signature("GET", "a/b.png", q["expires"], "0" * 64)
    assert not storage.verify_signature("GET", "a/b.png", q["expires"], None)
    assert not storage.verify_signature("GET", "a/b.png", "soon", q["sig"])
    later = time.time() + 61
    assert not storage.verify_signature("GET", "a/b.png", q["expires"], q["sig"], now=later)
    other = LocalStorage(storage.root, "another-secret", storage.public_base_url)
    assert not other.verify_signature("GET", "a/b.png", q["expires"], q["sig"])


def test_put_signature_covers_content_type(storage: LocalStorage) -> None:
    q = _query(storage.presigned_put_url("up/x.png", content_type="image/png"))
    assert storage.verify_signature("PUT", "up/x.png", q["expires"], q["sig"], "image/png")
    assert not storage.verify_signature("PUT", "up/x.png", q["expires"], q["sig"], "text/html")
    assert not storage.verify_signature("PUT", "up/x.png", q["expires"], q["sig"])


# -- the /api/files routes ------------------------------------------------------------------


def test_get_route_serves_signed_file(storage: LocalStorage, client: Client) -> None:
    storage.put_bytes("t/pic.png", b"\x89PNG fake", content_type="image/png")
    url = storage.presigned_get_url("t/pic.png", expires_in=120, download_name="my pic.png")
    r = client.get(url)
    assert r.status_code == 200
    assert r.content == b"\x89PNG fake"
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"].startswith("private, max-age=")
    assert 0 < int(r.headers["cache-control"].rsplit("=", 1)[1]) <= 120
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''my%20pic.png" in r.headers["content-disposition"]


def test_get_route_refuses_bad_signatures(storage: LocalStorage, client: Client) -> None:
    storage.put_bytes("t/pic.png", b"data", content_type="image/png")
    url = storage.presigned_get_url("t/pic.png")
    q = _query(url)
    cases = [
        "/api/files/t/pic.png",
        f"/api/files/t/pic.png?expires={q['expires']}&sig={'0' * 64}",
        f"/api/files/t/other.png?expires={q['expires']}&sig={q['sig']}",
        f"/api/files/t/pic.png?expires={int(time.time()) - 1}&sig={q['sig']}",
        url.replace("expires=", "expires=1"),
        url + "&name=evil.html",  # the download name is signed too
    ]
    for bad in cases:
        r = client.get(bad)
        assert r.status_code == 403, bad
        assert r.json() == {"detail": files._FORBIDDEN}


def test_get_route_404_when_missing(storage: LocalStorage, client: Client) -> None:
    r = client.get(storage.presigned_get_url("t/missing.png"))
    assert r.status_code == 404
    assert "detail" in r.json()


def test_put_route_uploads(storage: LocalStorage, client: Client) -> None:
    url = storage.presigned_put_url("up/a.png", content_type="image/png")
    body = os.urandom(100_000)
    r = client.put(url, content=body, headers={"Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    assert r.json() == {"key": "up/a.png", "size": len(body)}
    assert storage.read_bytes("up/a.png") == body
    # The same URL with another content type, or a GET URL used for PUT, is refused.
    r = client.put(url, content=b"<html>", headers={"Content-Type": "text/html"})
    assert r.status_code == 403
    get_url = storage.presigned_get_url("up/a.png")
    assert (
        client.put(get_url, content=b"x", headers={"Content-Type": "image/png"}).status_code == 403
    )


def test_put_route_caps_size(monkeypatch: pytest.MonkeyPatch, storage: LocalStorage) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    reset_settings()
    client = Client()
    url = storage.presigned_put_url("up/big.bin", content_type="application/octet-stream")
    headers = {"Content-Type": "application/octet-stream"}
    r = client.put(url, content=b"x" * 1001, headers=headers)
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: capped while streaming
        for _ in range(5):
            yield b"x" * 300

    r = client.put(url, content=chunks(), headers=headers)
    assert r.status_code == 413
    assert not storage.exists("up/big.bin")
    assert client.put(url, content=b"x" * 1000, headers=headers).status_code == 200


def test_routes_answer_404_with_s3(monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:1")
    reset_settings()
    assert client.get("/api/files/a/b.png?expires=1&sig=x").status_code == 404

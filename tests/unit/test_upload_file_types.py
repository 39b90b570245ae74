"""Upload file types: declared types, allowed lists with wildcards, sniffing real bytes, safe
key names, part sizes; and LocalStorage's multipart uploads and HEAD."""

from __future__ import annotations

import hashlib
import io
import math
import zipfile

import pytest
from PIL import Image

from app.services.core.errors import (
    ConflictError,
    FileTooLargeError,
    InvalidInputError,
    NotFoundError,
)
from app.services.core.storage import LocalStorage, get_storage
from app.services.uploads.file_types import (
    check_content,
    key_name,
    normalise_type,
    sniff,
    type_allowed,
)
from app.services.uploads.presign import (
    DEFAULT_PART_SIZE,
    MAX_PART_SIZE,
    part_size_for,
)
from app.settings import Settings


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 7), "red").save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("declared", "expected"),
    [("image/png", "image/png"), ("Image/PNG; charset=x", "image/png"), (" text/csv ", "text/csv")],
)
def test_declared_types_are_normalised(declared: str, expected: str) -> None:
    assert normalise_type(declared) == expected


@pytest.mark.parametrize("declared", ["png", "", "image/", "/png", "image/png/x", "a b/c", "é/x"])
def test_what_is_not_a_mime_type_is_refused(declared: str) -> None:
    with pytest.raises(InvalidInputError, match="not a MIME type"):
        normalise_type(declared)


def test_allowed_lists_take_exact_types_and_wildcards() -> None:
    assert type_allowed("image/png", ["image/*"])
    assert type_allowed("application/pdf", ["image/*", "application/pdf"])
    assert not type_allowed("application/pdf", ["image/*"])
    assert type_allowed("video/mp4", [])  # empty = anything
    # SVG can carry script: only an explicit entry lets it in.
    assert not type_allowed("image/svg+xml", ["image/*"])
    assert not type_allowed("image/svg+xml", [])
    assert type_allowed("image/svg+xml", ["image/svg+xml"])


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_images_are_sniffed_with_their_size(fmt: str, mime: str) -> None:
    found = sniff(image_bytes(fmt))
    assert found.candidates == (mime,) and (found.width, found.height) == (12, 7)


def test_other_formats_come_from_their_signatures() -> None:
    assert "application/pdf" in sniff(b"%PDF-1.4\n" + b"x" * 64).candidates
    assert sniff(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32).candidates[0] == "video/mp4"
    text = sniff("plain words, ünïcode\n".encode())
    assert text.candidates == () and text.is_text
    assert not sniff(b"\x00\x01\x02\x03garbage\xff").is_text
    assert not sniff(b"").is_text


def test_check_content_verdicts() -> None:
    png = image_bytes("PNG")
    pdf = b"%PDF-1.7\n" + b"x" * 64
    assert check_content(declared="image/png", prefix=png, allowed=["image/*"]).reason is None
    lie = check_content(declared="image/png", prefix=pdf, allowed=["image/*"])
    assert lie.reason == "The file's bytes are application/pdf, not image/png as declared."
    refused = check_content(declared="application/pdf", prefix=pdf, allowed=["image/*"])
    assert refused.reason == "The file is application/pdf; this project accepts image/*."
    csv = check_content(declared="text/csv", prefix=b"a,b\n1,2\n", allowed=["text/*"])
    assert csv.reason is None and csv.detected_type == "text/csv"
    as_json = check_content(declared="application/json", prefix=b'{"a": 1}', allowed=[])
    assert as_json.reason is None
    as_png = check_content(declared="image/png", prefix=b"just text", allowed=["image/*"])
    assert as_png.reason == "The file is plain text, not image/png as declared."
    unknown = check_content(declared="video/mp4", prefix=b"\x00\x01\xfe" * 10, allowed=[])
    assert unknown.reason and "could not be recognised as video/mp4" in unknown.reason
    blob = check_content(declared="application/octet-stream", prefix=b"\x00\x01\xfe", allowed=[])
    assert blob.reason is None
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "hello")
    docx_guess = check_content(declared="application/zip", prefix=zipped.getvalue(), allowed=[])
    assert docx_guess.reason is None


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\temp\\a b.png", "a_b.png"),
        ("Фото.png", "png"),
        ("ünïcödé.jpg", "unicode.jpg"),
        ("...", "file"),
        ("", "file"),
        ("a\u202e\u200bb.png", "ab.png"),
        ("x" * 500 + ".jpeg", "x" * 115 + ".jpeg"),
    ],
)
def test_key_names_are_safe(name: str, key: str) -> None:
    assert key_name(name) == key


def test_part_sizes_stay_within_s3_limits() -> None:
    assert part_size_for(65 * 1024 * 1024) == DEFAULT_PART_SIZE
    for size in (5 * 1024**3, 100 * 1024**3, 48 * 1024**4):
        part = part_size_for(size)
        assert 5 * 1024 * 1024 <= part <= MAX_PART_SIZE and part % (1024 * 1024) == 0
        assert math.ceil(size / part) <= 10_000
    with pytest.raises(FileTooLargeError):
        part_size_for(50 * 1024**4)


# --- LocalStorage ------------------------------------------------------------------------------


@pytest.fixture
def storage(isolated_settings: Settings) -> LocalStorage:
    s = get_storage()
    assert isinstance(s, LocalStorage)
    return s


def test_local_head_and_prefix(storage: LocalStorage) -> None:
    storage.put_bytes("p/1/a.png", b"0123456789", content_type="image/png")
    head = storage.head("p/1/a.png")
    assert (head.size, head.content_type) == (10, "image/png") and head.etag.startswith('"')
    assert storage.read_prefix("p/1/a.png", 4) == b"0123"
    assert storage.read_prefix("p/1/a.png", 100) == b"0123456789"
    with pytest.raises(NotFoundError):
        storage.head("p/1/b.png")
    with pytest.raises(NotFoundError):
        storage.read_prefix("p/1/b.png", 4)


def test_local_multipart_joins_parts_in_order(storage: LocalStorage) -> None:
    key = "p/1/up_m/file.bin"
    upload_id = storage.create_multipart(key, content_type="application/octet-stream")
    bodies = [b"a" * 3000, b"b" * 3000, b"c" * 10]
    etags = [
        (n, storage.put_part(key, upload_id=upload_id, part_number=n, stream=io.BytesIO(b)))
        for n, b in enumerate(bodies, start=1)
    ]
    assert etags[1][1] == f'"{hashlib.md5(bodies[1]).hexdigest()}"'
    with pytest.raises(ConflictError, match="ETag"):
        storage.complete_multipart(key, upload_id=upload_id, parts=[(1, etags[1][1]), *etags[1:]])
    with pytest.raises(ConflictError, match="ascending"):
        storage.complete_multipart(key, upload_id=upload_id, parts=[etags[1], etags[0]])
    with pytest.raises(ConflictError, match="Part 4"):
        storage.complete_multipart(key, upload_id=upload_id, parts=[*etags, (4, '"x"')])
    with pytest.raises(NotFoundError):  # parts belong to the key they were started for
        storage.put_part("p/1/other", upload_id=upload_id, part_number=1, stream=io.BytesIO(b""))
    storage.complete_multipart(key, upload_id=upload_id, parts=etags)
    assert storage.read_bytes(key) == b"".join(bodies)
    with pytest.raises(ConflictError):  # finished: its parts are gone
        storage.complete_multipart(key, upload_id=upload_id, parts=etags)
    with pytest.raises(InvalidInputError):  # the parts area is never an object key
        storage.path_for(f".multipart/{upload_id}/00001")


def test_local_abort_drops_the_parts(storage: LocalStorage) -> None:
    key = "p/1/up_n/file.bin"
    upload_id = storage.create_multipart(key, content_type="application/octet-stream")
    storage.put_part(key, upload_id=upload_id, part_number=1, stream=io.BytesIO(b"x"))
    storage.abort_multipart(key, upload_id=upload_id)
    storage.abort_multipart(key, upload_id=upload_id)
    storage.abort_multipart(key, upload_id="../../etc")  # not an id of ours: nothing happens
    assert not (storage.root / ".multipart" / upload_id).exists()
    with pytest.raises(ConflictError):
        storage.complete_multipart(key, upload_id=upload_id, parts=[(1, '"x"')])

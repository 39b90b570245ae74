"""Image intake: sniffing, bombs, corrupt files, thumbnails, dedupe, purge and rebuild."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.core.models import Analysis, Asset, Prompt, User
from app.services.core.storage import LocalStorage, get_storage
from app.services.images.intake import (
    ingest_image,
    make_thumbnail,
    purge_expired_assets,
    rebuild_missing_thumbnails,
    sanitize_filename,
)
from app.settings import Settings, reset_settings


@pytest.fixture
def storage(isolated_settings: Settings) -> LocalStorage:
    s = get_storage()
    assert isinstance(s, LocalStorage)
    return s


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _photo(size: tuple[int, int] = (640, 480), mode: str = "RGB") -> Image.Image:
    """A gradient, so encoders have real content to work on."""
    w, h = size
    gradient = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return gradient
    return Image.merge(
        "RGB", (gradient, gradient.rotate(90).resize(size), Image.new("L", size, 90))
    )


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height, with a tiny IDAT: nothing big is ever made."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _ingest(session: Session, storage: LocalStorage, data: bytes, name: str = "x.bin") -> Asset:
    return ingest_image(
        session=session, storage=storage, owner_id=None, stream=io.BytesIO(data), filename=name
    )


def _thumb(storage: LocalStorage, asset: Asset) -> Image.Image:
    assert asset.thumbnail_key
    image = Image.open(io.BytesIO(storage.read_bytes(asset.thumbnail_key)))
    image.load()
    return image


# -- accepted images ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_good_images_are_stored_with_thumbnail(
    fmt: str, mime: str, ext: str, session: Session, storage: LocalStorage
) -> None:
    data = _encode(_photo((1600, 1200)), fmt)
    digest = hashlib.sha256(data).hexdigest()
    asset = _ingest(session, storage, data, name=f"holiday photo.{ext}")
    assert asset.id is not None
    assert (asset.mime_type, asset.width, asset.height) == (mime, 1600, 1200)
    assert asset.size_bytes == len(data)
    assert asset.content_hash == digest
    assert asset.storage_key == f"originals/{digest[:2]}/{digest[2:4]}/{digest}.{ext}"
    assert asset.thumbnail_key == f"thumbnails/{digest[:2]}/{digest[2:4]}/{digest}.webp"
    assert asset.original_filename == f"holiday photo.{ext}"
    assert storage.read_bytes(asset.storage_key) == data
    thumb = _thumb(storage, asset)
    assert thumb.format == "WEBP"
    assert thumb.size == (512, 384)


def test_declared_name_is_ignored(session: Session, storage: LocalStorage) -> None:
    asset = _ingest(session, storage, _encode(_photo(), "PNG"), name="really-a-png.jpg")
    assert asset.mime_type == "image/png"
    assert asset.storage_key.endswith(".png")


def test_exif_rotated_jpeg_swaps_dimensions(session: Session, storage: LocalStorage) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = _encode(_photo((800, 400)), "JPEG", exif=exif.tobytes())
    asset = _ingest(session, storage, data)
    assert (asset.width, asset.height) == (400, 800)
    assert _thumb(storage, asset).size == (256, 512)


def test_cmyk_jpeg(session: Session, storage: LocalStorage) -> None:
    data = _encode(_photo().convert("CMYK"), "JPEG")
    asset = _ingest(session, storage, data)
    assert asset.mime_type == "image/jpeg"
    assert _thumb(storage, asset).mode == "RGB"


def test_16_bit_png_is_scaled_not_clipped(session: Session, storage: LocalStorage) -> None:
    image = Image.new("I;16", (300, 200))
    image.putdata([(x * 65535) // 299 for _y in range(200) for x in range(300)])
    data = _encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    asset = _ingest(session, storage, data)
    thumb = _thumb(storage, asset).convert("L")
    left, right = thumb.getpixel((2, 100)), thumb.getpixel((297, 100))
    assert isinstance(left, int) and isinstance(right, int)
    assert left < 30 and right > 220  # a gradient, not a white sheet


def test_paletted_png_keeps_transparency(session: Session, storage: LocalStorage) -> None:
    image = Image.new("P", (100, 100), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 6))
    image.paste(1, (50, 0, 100, 100))
    data = _encode(image, "PNG", transparency=0)
    asset = _ingest(session, storage, data)
    thumb = _thumb(storage, asset)
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((10, 50))[3] == 0  # type: ignore[index]
    assert thumb.getpixel((90, 50))[3] == 255  # type: ignore[index]


def test_animated_gif_uses_first_frame(session: Session, storage: LocalStorage) -> None:
    frames = [Image.new("RGB", (120, 80), color) for color in ("red", "blue", "green")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    asset = _ingest(session, storage, buf.getvalue())
    assert (asset.mime_type, asset.width, asset.height) == ("image/gif", 120, 80)
    r, g, b = _thumb(storage, asset).convert("RGB").getpixel((60, 40))  # type: ignore[misc]
    assert r > 200 and g < 50 and b < 50


def test_make_thumbnail_is_webp_within_size(tmp_path: Path) -> None:
    path = tmp_path / "tall.png"
    _photo((300, 2000)).save(path)
    thumb = Image.open(io.BytesIO(make_thumbnail(path, size=128)))
    assert thumb.format == "WEBP"
    assert max(thumb.size) == 128
    small = Image.open(
        io.BytesIO(make_thumbnail(io.BytesIO(_encode(_photo((50, 40)), "PNG")), size=128))
    )
    assert small.size == (50, 40)  # never upscaled


# -- refused files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"just some notes\nnothing to see\n", "notes.png", "a text file"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "a.png",
            "SVG",
        ),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "a.svg", "SVG"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "cat.jpg", "HTML"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "scan.jpg", "PDF"),
        (b"\x00\x01\x02\x03" * 50, "blob.webp", "not a supported image"),
    ],
)
def test_non_images_are_refused(
    data: bytes, name: str, says: str, session: Session, storage: LocalStorage
) -> None:
    with pytest.raises(InvalidImageError) as info:
        _ingest(session, storage, data, name=name)
    assert says in info.value.message
    assert "JPEG, PNG, WebP or GIF" in info.value.message
    assert session.exec(select(Asset)).first() is None


def test_other_image_formats_are_named(session: Session, storage: LocalStorage) -> None:
    with pytest.raises(InvalidImageError, match="BMP image"):
        _ingest(session, storage, _encode(_photo((20, 20)), "BMP"), name="x.png")


def test_empty_file(session: Session, storage: LocalStorage) -> None:
    with pytest.raises(InvalidImageError, match=r"^The file is empty\.$"):
        _ingest(session, storage, b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(fmt: str, session: Session, storage: LocalStorage) -> None:
    data = _encode(_photo((800, 600)), fmt)
    with pytest.raises(InvalidImageError, match="looks truncated or corrupt"):
        _ingest(session, storage, data[: len(data) // 2])
    assert not storage.root.exists() or not any(p.is_file() for p in storage.root.rglob("*"))


def test_decompression_bomb_is_refused_before_decoding(
    session: Session, storage: LocalStorage
) -> None:
    bomb = _png_bomb(20000, 20000)
    assert len(bomb) < 200
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError) as info:
            _ingest(session, storage, bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "20000×20000" in info.value.message
    assert "limit is 100 megapixels" in info.value.message
    assert peak < 5 * 1024 * 1024  # 400 megapixels were never allocated


def test_upload_byte_limit(
    monkeypatch: pytest.MonkeyPatch, session: Session, storage: LocalStorage
) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "2048")
    reset_settings()
    with pytest.raises(ImageTooLargeError, match="larger than the 2 KB upload limit"):
        _ingest(session, storage, _encode(_photo((800, 600)), "PNG"))


def test_pixel_limit_follows_settings(
    monkeypatch: pytest.MonkeyPatch, session: Session, storage: LocalStorage
) -> None:
    monkeypatch.setenv("MAX_IMAGE_PIXELS", "10000")
    reset_settings()
    with pytest.raises(ImageTooLargeError, match="101×100 pixels"):
        _ingest(session, storage, _encode(_photo((101, 100)), "PNG"))


# -- dedupe, names --------------------------------------------------------------------------


def _user(session: Session, email: str) -> int:
    user = User(email=email)
    session.add(user)
    session.flush()
    assert user.id is not None
    return user.id


def test_dedupe_per_owner(session: Session, storage: LocalStorage) -> None:
    alice, bob = _user(session, "a@example.com"), _user(session, "b@example.com")
    data = _encode(_photo(), "JPEG")

    def ingest(owner: int) -> Asset:
        return ingest_image(
            session=session,
            storage=storage,
            owner_id=owner,
            stream=io.BytesIO(data),
            filename="a.jpg",
        )

    first, again, other = ingest(alice), ingest(alice), ingest(bob)
    session.commit()
    assert first.id == again.id
    assert other.id != first.id
    assert other.storage_key == first.storage_key  # one object, two owners
    assert len(session.exec(select(Asset)).all()) == 2


def test_dedupe_never_shortens_expiry(session: Session, storage: LocalStorage) -> None:
    data = _encode(_photo(), "PNG")
    soon = datetime.now(UTC) + timedelta(days=1)
    first = ingest_image(
        session=session,
        storage=storage,
        owner_id=None,
        stream=io.BytesIO(data),
        filename="a.png",
        expires_at=soon,
    )
    again = _ingest(session, storage, data)  # no expiry: keep it
    assert again.id == first.id
    assert again.expires_at is None


def test_sanitize_filename() -> None:
    assert sanitize_filename("C:\\Users\\me\\photo.jpg") == "photo.jpg"
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("a\x00b\r\n.png") == "ab.png"
    assert sanitize_filename("") == "image"
    long = sanitize_filename("x" * 400 + ".jpeg")
    assert len(long) == 255 and long.endswith(".jpeg")


# -- maintenance ----------------------------------------------------------------------------


def test_purge_expired_assets(session: Session, storage: LocalStorage) -> None:
    owner = _user(session, "p@example.com")
    past = datetime.now(UTC) - timedelta(hours=1)

    def ingest(color: str, expires: datetime | None, owner_id: int | None = None) -> Asset:
        data = _encode(Image.new("RGB", (40, 30), color), "PNG")
        return ingest_image(
            session=session,
            storage=storage,
            owner_id=owner_id,
            stream=io.BytesIO(data),
            filename="x.png",
            expires_at=expires,
        )

    expired = ingest("red", past)
    kept_by_prompt = ingest("blue", past)
    fresh = ingest("green", datetime.now(UTC) + timedelta(days=1))
    forever = ingest("white", None)
    shared = ingest("white", past, owner_id=owner)  # same bytes as `forever`, another owner
    session.add(Prompt(owner_id=owner, title="uses blue", asset_id=kept_by_prompt.id))
    session.add(Analysis(asset_id=expired.id, provider="local", model="local/offline"))
    session.commit()

    assert purge_expired_assets(session=session, storage=storage) == 2
    session.commit()
    remaining = {a.id for a in session.exec(select(Asset)).all()}
    assert remaining == {kept_by_prompt.id, fresh.id, forever.id}
    assert not storage.exists(expired.storage_key)
    assert not storage.exists(expired.thumbnail_key or "")
    assert storage.exists(forever.storage_key)  # still used by `forever`
    assert shared.storage_key == forever.storage_key
    analysis = session.exec(select(Analysis)).one()
    assert analysis.asset_id is None  # the record stays, the image is gone
    assert purge_expired_assets(session=session, storage=storage) == 0


def test_rebuild_missing_thumbnails(session: Session, storage: LocalStorage) -> None:
    a = _ingest(session, storage, _encode(_photo(), "JPEG"))
    b = _ingest(session, storage, _encode(_photo((300, 300)), "PNG"))
    c = _ingest(session, storage, _encode(_photo((200, 100)), "WEBP"))
    assert a.thumbnail_key and b.thumbnail_key
    storage.delete(a.thumbnail_key)
    b_key = b.thumbnail_key
    storage.delete(b_key)
    b.thumbnail_key = None
    session.add(b)
    session.commit()

    assert rebuild_missing_thumbnails(session=session, storage=storage) == 2
    session.commit()
    assert b.thumbnail_key == b_key
    for asset in (a, b, c):
        assert _thumb(storage, asset).format == "WEBP"
    assert rebuild_missing_thumbnails(session=session, storage=storage) == 0

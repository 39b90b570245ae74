"""Image intake: validate uploads by their content, store them once, make WebP thumbnails.

Nothing about a file is trusted but its bytes: the name and the declared MIME type are ignored,
the format is sniffed, the pixel count is checked from the header before anything is decoded
(decompression bombs), and the whole image is decoded once so truncated files are caught at upload,
not later in the analyzer.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import struct
import tempfile
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from PIL import (
    GifImagePlugin,  # noqa: F401 - imported so Image.OPEN has the four accepted formats
    Image,
    ImageFile,
    ImageOps,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)
from sqlalchemy import exists, or_, update
from sqlmodel import Session, col, select

from app.services.core.errors import ImageTooLargeError, InvalidImageError, NotFoundError
from app.services.core.models import Analysis, Asset, Prompt, utcnow
from app.services.core.storage import CHUNK_SIZE, Storage, content_key
from app.services.core.units import format_bytes
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

ACCEPTED_FORMATS: dict[str, tuple[str, str]] = {
    # Pillow format -> (MIME type, file extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
ACCEPTED_TEXT = "JPEG, PNG, WebP or GIF"
THUMBNAIL_MIME = "image/webp"
# Spool uploads in memory up to this size, then on disk: big files never sit in RAM.
_SPOOL_MEMORY = 8 * 1024 * 1024
# Downscale in steps with a cheap filter first, then finish with LANCZOS: near-identical quality,
# several times faster on large photos.
_REDUCING_GAP = 3.0
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, IndexError, TypeError, EOFError, struct.error)


@dataclass(frozen=True)
class DecodedImage:
    format: str
    mime_type: str
    extension: str
    width: int  # after EXIF orientation
    height: int
    is_animated: bool
    thumbnail: bytes  # WebP


def ingest_image(
    *,
    session: Session,
    storage: Storage,
    owner_id: int | None,
    stream: BinaryIO,
    filename: str,
    expires_at: datetime | None = None,
    settings: Settings | None = None,
) -> Asset:
    """Validate an uploaded image, store it and its thumbnail, and return its Asset.

    The same bytes uploaded again by the same owner return the existing Asset. The Asset is
    added and flushed; the caller commits.
    """
    settings = settings or get_settings()
    expires_at = _aware_utc(expires_at)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
        digest, size = _spool(stream, spool, max_bytes=settings.max_upload_bytes)
        if size == 0:
            raise InvalidImageError("The file is empty.")

        existing = _find_by_hash(session, owner_id=owner_id, content_hash=digest)
        if existing is not None and storage.exists(existing.storage_key):
            # Uploading the same file again should never make it expire sooner.
            if existing.expires_at is not None and (
                expires_at is None or expires_at > existing.expires_at
            ):
                existing.expires_at = expires_at
                session.add(existing)
                session.flush()
            return existing

        spool.seek(0)
        decoded = _decode(
            spool, max_pixels=settings.max_image_pixels, thumb_size=settings.thumbnail_size
        )
        if decoded.is_animated:
            # Only the first frame is analysed and thumbnailed; say so in the log for support.
            log.info("animated %s uploaded; using its first frame", decoded.format)

        original_key = content_key("originals", digest, decoded.extension)
        thumbnail_key = content_key("thumbnails", digest, "webp")
        spool.seek(0)
        storage.put_stream(original_key, spool, content_type=decoded.mime_type)  # type: ignore[arg-type]
        storage.put_bytes(thumbnail_key, decoded.thumbnail, content_type=THUMBNAIL_MIME)

    if existing is not None:
        # The row survived but its object was lost: refresh the row instead of adding a twin
        # (the unique (owner_id, content_hash) constraint forbids one).
        asset = existing
        asset.storage_key = original_key
        asset.thumbnail_key = thumbnail_key
    else:
        asset = Asset(
            owner_id=owner_id,
            content_hash=digest,
            mime_type=decoded.mime_type,
            size_bytes=size,
            width=decoded.width,
            height=decoded.height,
            storage_key=original_key,
            thumbnail_key=thumbnail_key,
            original_filename=sanitize_filename(filename),
            expires_at=expires_at,
        )
    session.add(asset)
    session.flush()
    return asset


def sniff_image(data: bytes, *, settings: Settings | None = None) -> str:
    """Validate image bytes the way uploads are validated; return the real MIME type."""
    settings = settings or get_settings()
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > settings.max_upload_bytes:
        raise ImageTooLargeError(
            f"The file is larger than {format_bytes(settings.max_upload_bytes)}."
        )
    decoded = _decode(io.BytesIO(data), max_pixels=settings.max_image_pixels, thumb_size=64)
    return decoded.mime_type


def make_thumbnail(src: BinaryIO | Path, *, size: int, max_pixels: int | None = None) -> bytes:
    """A WebP thumbnail whose long edge is at most `size`, upright per EXIF."""
    limit = max_pixels if max_pixels is not None else get_settings().max_image_pixels
    if isinstance(src, Path):
        with src.open("rb") as f:
            return _decode(f, max_pixels=limit, thumb_size=size).thumbnail
    return _decode(src, max_pixels=limit, thumb_size=size).thumbnail


def rebuild_missing_thumbnails(
    *, session: Session, storage: Storage, settings: Settings | None = None
) -> int:
    """Remake thumbnails that were never made or were lost from storage. Returns how many."""
    settings = settings or get_settings()
    rebuilt = 0
    for asset in session.exec(select(Asset).order_by(col(Asset.id))).all():
        if asset.thumbnail_key and storage.exists(asset.thumbnail_key):
            continue
        try:
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
                for chunk in storage.open_stream(asset.storage_key):
                    spool.write(chunk)
                spool.seek(0)
                thumb = make_thumbnail(
                    spool,  # type: ignore[arg-type]
                    size=settings.thumbnail_size,
                    max_pixels=settings.max_image_pixels,
                )
        except (NotFoundError, InvalidImageError, ImageTooLargeError) as e:
            # Nothing to rebuild from; leave it for purge or an admin rather than stop the run.
            log.warning("cannot rebuild thumbnail for asset %s: %s", asset.id, e)
            continue
        key = content_key("thumbnails", asset.content_hash, "webp")
        storage.put_bytes(key, thumb, content_type=THUMBNAIL_MIME)
        asset.thumbnail_key = key
        session.add(asset)
        rebuilt += 1
    session.flush()
    return rebuilt


def purge_expired_assets(*, session: Session, storage: Storage, now: datetime | None = None) -> int:
    """Delete assets whose expiry has passed, objects first, then rows. Returns how many.

    Assets a prompt still points at are kept. Analyses of a purged image keep their record but
    lose the link. Rows are flushed, not committed; the caller commits.
    """
    cutoff = _aware_utc(now) or utcnow()
    referenced = exists().where(col(Prompt.asset_id) == col(Asset.id))
    expired = session.exec(
        select(Asset)
        .where(col(Asset.expires_at).is_not(None))
        .where(col(Asset.expires_at) <= cutoff)
        .where(~referenced)
        .order_by(col(Asset.id))
    ).all()
    if not expired:
        return 0
    expired_ids = [a.id for a in expired]
    for asset in expired:
        for key in (asset.storage_key, asset.thumbnail_key):
            # Keys are content-addressed, so another owner's asset may share the object.
            if key and not _key_shared(session, key=key, excluding=expired_ids):
                storage.delete(key)
    session.exec(
        update(Analysis).where(col(Analysis.asset_id).in_(expired_ids)).values(asset_id=None)
    )
    for asset in expired:
        session.delete(asset)
    session.flush()
    return len(expired)


def sanitize_filename(filename: str) -> str:
    """The last path segment, without control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return "image"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 255 - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else name[:255]
    return name


# -- internals ------------------------------------------------------------------------------


def _spool(stream: BinaryIO, spool: IO[bytes], *, max_bytes: int) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise ImageTooLargeError(
                f"The file is larger than the {format_bytes(max_bytes)} upload limit."
            )
        hasher.update(chunk)
        spool.write(chunk)
    return hasher.hexdigest(), size


def _find_by_hash(session: Session, *, owner_id: int | None, content_hash: str) -> Asset | None:
    owner_match = col(Asset.owner_id).is_(None) if owner_id is None else Asset.owner_id == owner_id
    return session.exec(
        select(Asset).where(owner_match).where(Asset.content_hash == content_hash)
    ).first()


def _key_shared(session: Session, *, key: str, excluding: list[int | None]) -> bool:
    other = session.exec(
        select(Asset.id)
        .where(or_(col(Asset.storage_key) == key, col(Asset.thumbnail_key) == key))
        .where(col(Asset.id).not_in(excluding))
    ).first()
    return other is not None


def open_image_header(
    fp: IO[bytes],
    *,
    formats: Collection[str] = tuple(ACCEPTED_FORMATS),
    accepted_text: str = ACCEPTED_TEXT,
) -> ImageFile.ImageFile:
    """Parse only the header, trying the accepted formats (Pillow format names).

    `Image.open` would also run Pillow's global decompression-bomb check, which warns or raises
    by its own limit before we can name the dimensions; calling the format's factory directly
    leaves that check to us (`check_pixels`), with our limit and a message that says why.
    The image studio passes a wider list of formats than uploads to the gallery accept.
    """
    fp.seek(0)
    prefix = fp.read(16)
    for fmt in formats:
        factory, accept = Image.OPEN[fmt]
        if accept is not None and accept(prefix) is not True:
            continue
        fp.seek(0)
        try:
            image: ImageFile.ImageFile = factory(fp, "")
        except _DECODE_ERRORS as e:
            raise InvalidImageError(
                f"This {_format_name(fmt)} file looks truncated or corrupt. Try exporting it again."
            ) from e
        return image
    raise InvalidImageError(_unsupported_message(fp, formats, accepted_text))


def check_pixels(image: Image.Image, *, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImageError("The image has no pixels; it looks truncated or corrupt.")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The image is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels. Scale it down and try again."
        )


def _decode(fp: IO[bytes], *, max_pixels: int, thumb_size: int) -> DecodedImage:
    image = open_image_header(fp)
    fmt = str(image.format)
    mime, ext = ACCEPTED_FORMATS[fmt]
    check_pixels(image, max_pixels=max_pixels)
    width, height = image.size
    try:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
    except _DECODE_ERRORS:
        orientation = 1  # an unreadable EXIF block should not sink a good image
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn
        width, height = height, width
    try:
        # Finding a second frame means parsing past the first; a broken GIF can fail here.
        is_animated = bool(getattr(image, "is_animated", False))
        if is_animated:
            image.seek(0)
    except _DECODE_ERRORS as e:
        raise InvalidImageError(
            f"This {_format_name(fmt)} image looks truncated or corrupt. Try exporting it again."
        ) from e
    if fmt == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: the whole stream is still read (so
        # truncation is still caught) but memory and time drop by up to 64 times.
        image.draft(image.mode, (thumb_size, thumb_size))
    try:
        image.load()
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(
            "The image is too large to decode safely. Scale it down and try again."
        ) from e
    except _DECODE_ERRORS as e:
        raise InvalidImageError(
            f"This {_format_name(fmt)} image looks truncated or corrupt and could not be read "
            "to the end. Try exporting it again."
        ) from e
    thumbnail = _thumbnail_bytes(image, size=thumb_size)
    return DecodedImage(fmt, mime, ext, width, height, is_animated, thumbnail)


def _thumbnail_bytes(image: Image.Image, *, size: int) -> bytes:
    image = ImageOps.exif_transpose(image) or image
    image = _to_rgb_or_rgba(image)
    image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """WebP holds 8-bit RGB or RGBA; bring every other mode there without losing alpha."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode == "P":
        has_alpha = "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16/32-bit greyscale: scale to 8 bits instead of letting convert() clip at 255,
        # which would turn most of a 16-bit image white.
        scale: Callable[[Any], Any] = (lambda v: v / 256) if mode != "F" else (lambda v: v * 255)
        return image.convert("I" if mode != "F" else "F").point(scale).convert("L").convert("RGB")
    if mode in ("LA", "La", "PA", "RGBa") or "A" in mode:
        return image.convert("RGBA")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _unsupported_message(fp: IO[bytes], formats: Collection[str], accepted_text: str) -> str:
    fp.seek(0)
    head = fp.read(512)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        kind: str | None = "an SVG drawing"
    elif text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        kind = "an HTML page"
    elif head.startswith(b"%PDF"):
        kind = "a PDF document"
    elif text.startswith(b"<"):
        kind = "an XML or HTML document"
    elif other := _other_image_format(fp, formats):
        kind = f"a {other} image, which is"
    elif _looks_like_text(head):
        kind = "a text file"
    else:
        kind = None
    found = f"This file is {kind}, not" if kind else "This file is not"
    return f"{found} a supported image. Upload a {accepted_text} image."


def _other_image_format(fp: IO[bytes], formats: Collection[str]) -> str | None:
    """Name an image format we do not accept (BMP, TIFF, ...), only to word the message."""
    fp.seek(0)
    prefix = fp.read(16)
    Image.init()
    for fmt, (_factory, accept) in Image.OPEN.items():
        if fmt in formats or accept is None:
            continue
        try:
            if accept(prefix) is True:
                return fmt
        except _DECODE_ERRORS:
            continue
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # only a character cut off by the 512-byte window
    return True


def _format_name(fmt: str) -> str:
    return {"WEBP": "WebP"}.get(fmt, fmt)


def _aware_utc(value: datetime | None) -> datetime | None:
    """Columns hold aware UTC datetimes; a naive one from a caller is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

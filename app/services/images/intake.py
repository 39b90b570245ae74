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
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy import exists, or_, update
from sqlmodel import Session, col, select

from app.services.core.errors import ImageTooLargeError, InvalidImageError, NotFoundError
from app.services.core.models import Analysis, Asset, Prompt, utcnow
from app.services.core.storage import CHUNK_SIZE, Storage, content_key
from app.services.core.units import format_bytes

# The checks themselves are pure and live in images.decode (the studio's engine shares them
# without importing the database); these names stay importable from here.
from app.services.images.decode import (
    ACCEPTED_FORMATS,
    ACCEPTED_TEXT,
    DecodedImage,
    check_pixels,
    decode_upload,
    open_image_header,
    sanitize_filename,
)
from app.settings import Settings, get_settings

__all__ = [
    "ACCEPTED_FORMATS",
    "ACCEPTED_TEXT",
    "THUMBNAIL_MIME",
    "DecodedImage",
    "check_pixels",
    "ingest_image",
    "make_thumbnail",
    "open_image_header",
    "purge_expired_assets",
    "rebuild_missing_thumbnails",
    "sanitize_filename",
    "sniff_image",
]

log = logging.getLogger(__name__)

THUMBNAIL_MIME = "image/webp"
# Spool uploads in memory up to this size, then on disk: big files never sit in RAM.
_SPOOL_MEMORY = 8 * 1024 * 1024


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
        decoded = decode_upload(
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
    decoded = decode_upload(io.BytesIO(data), max_pixels=settings.max_image_pixels, thumb_size=64)
    return decoded.mime_type


def make_thumbnail(src: BinaryIO | Path, *, size: int, max_pixels: int | None = None) -> bytes:
    """A WebP thumbnail whose long edge is at most `size`, upright per EXIF."""
    limit = max_pixels if max_pixels is not None else get_settings().max_image_pixels
    if isinstance(src, Path):
        with src.open("rb") as f:
            return decode_upload(f, max_pixels=limit, thumb_size=size).thumbnail
    return decode_upload(src, max_pixels=limit, thumb_size=size).thumbnail


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


def _aware_utc(value: datetime | None) -> datetime | None:
    """Columns hold aware UTC datetimes; a naive one from a caller is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

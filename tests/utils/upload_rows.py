"""Rows and objects of the upload platform for tests of the after-upload jobs: a project, an
upload whose bytes are in the project's storage, and a webhook endpoint to see events."""

from __future__ import annotations

import io
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from PIL import Image
from sqlmodel import Session, select

from app.services.core.models import Project, Upload, WebhookDelivery, WebhookEndpoint, utcnow
from app.services.core.secret_box import seal_secret
from app.services.uploads.buckets import storage_for_project
from app.services.webhooks.outbox import EVENTS
from tests.utils.job_helpers import make_user


def make_project(session: Session, email: str = "dev@example.com", **rules: Any) -> Project:
    owner = make_user(session, email)
    assert owner.id is not None
    project = Project(owner_id=owner.id, name="Site", allowed_types=[], **rules)
    session.add(project)
    session.commit()
    return project


def subscribe(session: Session, project: Project) -> WebhookEndpoint:
    """An endpoint of the project that takes every event (so deliveries show what was emitted)."""
    assert project.id is not None
    endpoint = WebhookEndpoint(
        project_id=project.id,
        url="https://hooks.example.com/in",
        events=list(EVENTS),
        secret_enc=seal_secret("whsec_" + secrets.token_urlsafe(24)),
    )
    session.add(endpoint)
    session.commit()
    return endpoint


def stored_upload(
    session: Session,
    project: Project,
    data: bytes,
    *,
    name: str = "file.bin",
    content_type: str = "application/octet-stream",
    status: str = "ready",
    completed_at: datetime | None = None,
    **fields: Any,
) -> Upload:
    """An upload row with its bytes stored under its key, as `complete` leaves it."""
    assert project.id is not None
    upload_id = "up_" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
    key = f"uploads/{project.id}/{upload_id}/{name}"
    storage_for_project(project).put_bytes(key, data, content_type=content_type)
    now = utcnow()
    upload = Upload(
        id=upload_id,
        project_id=project.id,
        name=name,
        size=len(data),
        content_type=content_type,
        detected_type=content_type if status != "pending" else None,
        storage_key=key,
        status=status,
        url_expires_at=fields.pop("url_expires_at", now + timedelta(hours=1)),
        completed_at=completed_at if completed_at is not None or status == "pending" else now,
        **fields,
    )
    session.add(upload)
    session.commit()
    return upload


def deliveries(session: Session, event_type: str) -> list[WebhookDelivery]:
    session.expire_all()
    return list(
        session.exec(select(WebhookDelivery).where(WebhookDelivery.event_type == event_type)).all()
    )


def png(size: tuple[int, int] = (320, 200), color: tuple[int, int, int] = (30, 140, 220)) -> bytes:
    image = Image.new("RGB", size, color)
    # A second colour, so the ThumbHash has something to say about layout.
    image.paste((240, 200, 40), (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=2)
def png_bomb(side: int = 40_000) -> bytes:
    """A real 1-bit PNG of side×side pixels (1.6 gigapixels for 40,000: decoding it would take
    1.6 GB) that is only a few hundred KB on disk: all zeros compress ~1000 times."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed pixels
    packer = zlib.compressobj(1)
    parts = [packer.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(packer.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )

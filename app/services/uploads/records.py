"""Reading and deleting a project's uploads: the upload log (keyset pages), one upload with its
signed links, and deletion (object, thumbnail and row, with an `upload.deleted` event)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from app.services.accounts.api_keys import KeyAuth
from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import Project, Upload
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.complete import get_project_upload
from app.services.uploads.views import upload_data
from app.services.webhooks.outbox import emit

STATUSES = ("pending", "ready", "rejected", "quarantined")
MAX_PAGE = 100
_BAD_CURSOR = "This cursor is not one this API gave out: start again without it."


@dataclass(frozen=True)
class UploadFilters:
    status: str | None = None
    type: str | None = None  # a MIME type, or "image/*"
    name: str | None = None  # a substring, any case
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class UploadPage:
    uploads: list[Upload]
    next_cursor: str | None


def encode_cursor(upload: Upload) -> str:
    raw = json.dumps([upload.created_at.isoformat(), upload.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, upload_id = json.loads(raw)
        when = datetime.fromisoformat(created)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as e:
        raise InvalidInputError(_BAD_CURSOR) from e
    if not isinstance(upload_id, str):
        raise InvalidInputError(_BAD_CURSOR)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), upload_id


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_uploads(
    session: Session,
    auth: KeyAuth,
    *,
    filters: UploadFilters,
    limit: int = 50,
    cursor: str | None = None,
) -> UploadPage:
    """One page of the project's uploads, newest first (ix_uploads_project_created)."""
    limit = max(1, min(MAX_PAGE, limit))
    query = select(Upload).where(Upload.project_id == auth.project_id)
    if filters.status:
        query = query.where(Upload.status == filters.status)
    if filters.type:
        kind = func.coalesce(col(Upload.detected_type), col(Upload.content_type))
        wanted = filters.type.lower()
        if wanted.endswith("/*"):
            query = query.where(kind.like(_like_pattern(wanted[:-1]).lstrip("%"), escape="\\"))
        else:
            query = query.where(kind == wanted)
    if filters.name:
        query = query.where(
            func.lower(col(Upload.name)).like(_like_pattern(filters.name), escape="\\")
        )
    if filters.created_after:
        query = query.where(col(Upload.created_at) >= filters.created_after)
    if filters.created_before:
        query = query.where(col(Upload.created_at) < filters.created_before)
    if cursor:
        created, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                col(Upload.created_at) < created,
                and_(col(Upload.created_at) == created, col(Upload.id) < last_id),
            )
        )
    query = query.order_by(col(Upload.created_at).desc(), col(Upload.id).desc()).limit(limit + 1)
    rows = list(session.exec(query).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return UploadPage(rows, encode_cursor(rows[-1]) if more and rows else None)


def upload_links(session: Session, upload: Upload) -> dict[str, Any]:
    """Signed links of a ready upload (and its thumbnail): `url`, `thumbnail_url`, or None."""
    if upload.status != "ready":
        return {"url": None, "thumbnail_url": None}
    project = session.get(Project, upload.project_id)
    if project is None:
        raise NotFoundError("No such upload in this project.")
    storage = storage_for_project(project)
    thumb = storage.presigned_get_url(upload.thumbnail_key) if upload.thumbnail_key else None
    return {
        "url": storage.presigned_get_url(upload.storage_key, download_name=upload.name),
        "thumbnail_url": thumb,
    }


def get_upload(session: Session, auth: KeyAuth, upload_id: str) -> dict[str, Any]:
    upload = get_project_upload(session, auth, upload_id)
    return upload_data(upload) | upload_links(session, upload)


def delete_upload(session: Session, auth: KeyAuth, upload_id: str) -> dict[str, Any]:
    """Delete the object, its thumbnail and the row; emit `upload.deleted`. Returns its data."""
    upload = get_project_upload(session, auth, upload_id)
    project = session.get(Project, upload.project_id)
    if project is None:
        raise NotFoundError("No such upload in this project.")
    storage = storage_for_project(project)
    if upload.multipart_id and upload.status == "pending":
        storage.abort_multipart(upload.storage_key, upload_id=upload.multipart_id)
    storage.delete(upload.storage_key)
    if upload.thumbnail_key:
        storage.delete(upload.thumbnail_key)
    data = upload_data(upload)
    emit(session, project_id=upload.project_id, event_type="upload.deleted", data=data)
    session.delete(upload)
    session.flush()
    return data

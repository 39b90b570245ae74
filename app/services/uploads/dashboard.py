"""A project's uploads as its owner sees them on the Uploads tab: the log, delete, test uploader.

The owner acts through the same services as the API (records.list_uploads, delete_upload), with
their project's access checked here by ownership instead of by a key. The test uploader gets a
short-lived client token minted from one of the project's live upload keys, exactly as a
customer's server would: the page never holds a secret key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.services.accounts.api_keys import KeyAuth, parse_scopes
from app.services.core.models import ApiKey, Project, Upload, User, utcnow
from app.services.core.units import format_bytes
from app.services.uploads.client_tokens import MAX_EXPIRES_IN, ClientToken, mint_client_token
from app.services.uploads.previews import placeholder_data_url
from app.services.uploads.projects import get_owned_project
from app.services.uploads.records import (
    UploadFilters,
    delete_upload,
    list_uploads,
    upload_links,
)

LOG_PAGE_SIZE = 25

SCAN_LABELS = {
    "pending": "Scan pending",
    "clean": "Clean",
    "infected": "Infected",
    # No scanner ran: say so, never "clean".
    "not_scanned": "Not scanned",
}


@dataclass(frozen=True)
class LogRow:
    """One upload in the log, ready to show (public values only: no keys, no hashes)."""

    id: str
    name: str
    size: str
    type: str
    icon: str  # a lucide icon for the type, shown when there is no picture
    status: str
    reason: str
    scan: str
    scan_status: str
    created: str  # "2026-12-07 18:04 UTC"
    thumbnail_url: str  # signed; "" when there is no thumbnail
    placeholder_url: str  # the ThumbHash as a data URL; "" when there is none
    download_url: str  # signed, ready files only; "" otherwise

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    next_cursor: str | None


def owner_access(session: Session, *, owner: User, project_id: int) -> tuple[Project, KeyAuth]:
    """The owner's project and what they may do with it from the dashboard (read and manage).

    NotFoundError for anyone else's project, as for a missing one."""
    project = get_owned_project(session, owner=owner, project_id=project_id)
    assert project.id is not None
    # key_id 0: the owner in the dashboard, not a key (nothing is recorded against a key).
    return project, KeyAuth(project_id=project.id, key_id=0, scopes=frozenset({"read", "manage"}))


def type_icon(mime: str) -> str:
    family, _, subtype = mime.partition("/")
    if family == "image":
        return "image"
    if family == "video":
        return "film"
    if family == "audio":
        return "music"
    if subtype == "pdf" or family == "text":
        return "file-text"
    if subtype in {"zip", "gzip", "x-tar", "x-7z-compressed", "vnd.rar"}:
        return "file-archive"
    return "file"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def log_row(session: Session, upload: Upload) -> LogRow:
    mime = upload.detected_type or upload.content_type
    links = upload_links(session, upload)
    placeholder = "" if links["thumbnail_url"] else placeholder_data_url(upload.thumbhash) or ""
    return LogRow(
        id=upload.id,
        name=upload.name,
        size=format_bytes(upload.size),
        type=mime,
        icon=type_icon(mime),
        status=upload.status,
        reason=upload.reason or "",
        scan=SCAN_LABELS.get(upload.scan_status, upload.scan_status),
        scan_status=upload.scan_status,
        created=_when(upload.created_at),
        thumbnail_url=links["thumbnail_url"] or "",
        placeholder_url=placeholder,
        download_url=links["url"] or "",
    )


def log_page(
    session: Session,
    *,
    owner: User,
    project_id: int,
    filters: UploadFilters,
    cursor: str | None = None,
    limit: int = LOG_PAGE_SIZE,
) -> LogPage:
    """One page of the upload log, newest first, through the API's own listing."""
    _, access = owner_access(session, owner=owner, project_id=project_id)
    page = list_uploads(session, access, filters=filters, limit=limit, cursor=cursor)
    return LogPage([log_row(session, u) for u in page.uploads], page.next_cursor)


def delete_as_owner(session: Session, *, owner: User, project_id: int, upload_id: str) -> str:
    """Delete one upload (object, thumbnail, row; `upload.deleted` is sent). Returns its name."""
    _, access = owner_access(session, owner=owner, project_id=project_id)
    return str(delete_upload(session, access, upload_id)["name"])


def uploader_token(session: Session, *, owner: User, project_id: int) -> ClientToken | None:
    """A client token for the dashboard's test uploader, from the project's newest live key with
    the upload scope; None when the project has no such key (the page says to create one)."""
    project, _ = owner_access(session, owner=owner, project_id=project_id)
    now = utcnow()
    keys = session.exec(
        select(ApiKey)
        .where(ApiKey.project_id == project.id, col(ApiKey.revoked_at).is_(None))
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    ).all()
    for key in keys:
        live = key.expires_at is None or key.expires_at > now
        if live and "upload" in parse_scopes(key.scopes):
            assert key.id is not None and project.id is not None
            auth = KeyAuth(project_id=project.id, key_id=key.id, scopes=frozenset({"upload"}))
            return mint_client_token(auth, expires_in=MAX_EXPIRES_IN)
    return None

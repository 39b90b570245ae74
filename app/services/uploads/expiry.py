"""Uploads that go: expired files, and presigned uploads never completed.

Both run from the worker's maintenance, one upload per transaction, objects deleted before the
row: a run stopped halfway leaves rows whose objects are already gone, and the next run deletes
them again harmlessly (deleting a missing object is not an error).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from app.services.core.db import session_scope
from app.services.core.errors import StorageError
from app.services.core.logs import get_logger
from app.services.core.models import Project, Upload, utcnow
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.cdn import unpublish
from app.services.uploads.views import upload_data
from app.services.webhooks.outbox import emit

log = get_logger("uploads")

# Presigned URLs that expired this long ago can't be in use any more: nobody can still upload.
STALE_PENDING_AFTER = timedelta(days=1)
BATCH = 200  # per maintenance run; the rest waits for the next run


def expiry_for(project: Project, now: datetime) -> datetime | None:
    """When a file completed at `now` goes: after the project's expire_after_days, or never."""
    if project.expire_after_days is None:
        return None
    return now + timedelta(days=project.expire_after_days)


def purge_expired_uploads(*, now: datetime | None = None) -> int:
    """Delete uploads whose expires_at has passed (object, thumbnail, row) and send
    `upload.expired` with the upload's data. Returns how many went."""
    cutoff = now or utcnow()
    with session_scope() as session:
        ids = session.exec(
            select(Upload.id)
            .where(col(Upload.expires_at).is_not(None), col(Upload.expires_at) <= cutoff)
            .order_by(col(Upload.expires_at))
            .limit(BATCH)
        ).all()
    return sum(_each(_expire, upload_id, cutoff) for upload_id in ids)


def purge_stale_pending(*, now: datetime | None = None) -> int:
    """Delete uploads still pending a day after their URLs expired, aborting their S3
    multipart upload (whose parts would otherwise be stored and billed forever)."""
    cutoff = (now or utcnow()) - STALE_PENDING_AFTER
    with session_scope() as session:
        ids = session.exec(
            select(Upload.id)
            .where(Upload.status == "pending", col(Upload.url_expires_at) < cutoff)
            .order_by(col(Upload.url_expires_at))
            .limit(BATCH)
        ).all()
    return sum(_each(_drop_pending, upload_id, cutoff) for upload_id in ids)


def _each(step: Callable[[str, datetime], bool], upload_id: str, cutoff: datetime) -> bool:
    # One project's unreachable bucket must not stop the others' uploads from going; its
    # uploads are tried again next run.
    try:
        return step(upload_id, cutoff)
    except StorageError:
        log.warning("upload %s not removed; retried next run", upload_id, exc_info=True)
        return False


def _expire(upload_id: str, cutoff: datetime) -> bool:
    with session_scope() as session:
        upload = session.get(Upload, upload_id, with_for_update=True)
        if upload is None or upload.expires_at is None or _utc(upload.expires_at) > _utc(cutoff):
            return False  # deleted, or given a new date, since it was listed
        project = session.get(Project, upload.project_id)
        if project is None:
            return False
        storage = storage_for_project(project)
        data = upload_data(upload)
        unpublish(session, project, upload)  # the public copy stays while another upload shares it
        for key in (upload.storage_key, upload.thumbnail_key):
            if key:
                storage.delete(key)
        emit(
            session,
            project_id=upload.project_id,
            event_type="upload.expired",
            data=data,
        )
        session.delete(upload)
    return True


def _drop_pending(upload_id: str, cutoff: datetime) -> bool:
    with session_scope() as session:
        upload = session.get(Upload, upload_id, with_for_update=True)
        if upload is None or upload.status != "pending":
            return False  # completed or deleted since it was listed
        if _utc(upload.url_expires_at) >= _utc(cutoff):
            return False
        project = session.get(Project, upload.project_id)
        if project is None:
            return False
        storage = storage_for_project(project)
        if upload.multipart_id:
            storage.abort_multipart(upload.storage_key, upload_id=upload.multipart_id)
        # A single PUT may have landed without `complete` ever being called.
        storage.delete(upload.storage_key)
        session.delete(upload)
    log.info("stale pending upload removed", extra={"upload": upload_id})
    return True


def _utc(value: datetime) -> datetime:
    # SQLite hands datetimes back without a zone; they are stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

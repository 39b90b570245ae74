"""After an upload is complete: scan it for viruses, then make its thumbnail and ThumbHash.

`enqueue_processing(upload_id)` is called by `complete` after its commit; the huey task
`process_upload` does the work; `queue_unprocessed` (run by the worker every minute) queues
again any ready upload still unprocessed a minute after completing, so a lost enqueue or a
killed worker loses nothing. A run is idempotent: an upload already processed, no longer ready
or deleted meanwhile is left alone.

Scanning has three outcomes. Infected: the object moves under `quarantine/` (never served), the
upload becomes "quarantined" and `upload.infected` is sent. Clean: "clean". No scanner
configured, or one that keeps failing after the task's retries: "not_scanned" with the reason,
never "clean".
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from huey import Huey
from huey.api import Task, TaskWrapper
from sqlalchemy import event, func
from sqlmodel import Session, col, select

from app.services.core.db import session_scope
from app.services.core.errors import (
    ConfigurationError,
    ImageTooLargeError,
    InvalidImageError,
    NotFoundError,
)
from app.services.core.logs import get_logger
from app.services.core.models import Project, Upload, utcnow
from app.services.core.queue import get_huey, task_once, waiting_args
from app.services.core.storage import Storage
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.cdn import publish
from app.services.uploads.owner_emails import tell_owner_of_failure
from app.services.uploads.previews import Preview, is_image_type, make_preview
from app.services.uploads.scanner import (
    ScannerError,
    ScanVerdict,
    scanner_from_settings,
    stream_of,
)
from app.services.uploads.views import upload_data
from app.services.webhooks.outbox import emit
from app.settings import get_settings

log = get_logger("uploads")

PROCESS_TASK = "process_upload"  # the huey task name, also what the sweep looks for in the queue
_AFTER_COMMIT = "uploads.process_after_commit"
RETRIES = 3  # a scanner that fails is tried again after 30 s, 60 s, 120 s, then given up on
RETRY_DELAY = 30
RETRY_BACKOFF = 2
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_LIMIT = 500
NO_SCANNER = "No virus scanner is configured."
_SPOOL_IN_MEMORY = 4 * 1024 * 1024  # larger images are spooled to a temporary file


def register(huey: Huey) -> TaskWrapper:
    """The `process_upload` task of `huey`, registered the first time this queue is seen."""
    return task_once(
        huey,
        _process_task,
        name=PROCESS_TASK,
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
        retry_backoff=RETRY_BACKOFF,
        context=True,
    )


def enqueue_processing(upload_id: str) -> None:
    """Queue the upload's scan and thumbnail. Call after the commit that made it ready; if the
    queue can't be reached, the sweep queues it a minute later."""
    try:
        queue = get_huey()
        queue.enqueue(register(queue).s(upload_id))
    except Exception:
        log.error("could not enqueue upload %s; the sweep will retry", upload_id, exc_info=True)


def enqueue_processing_after_commit(session: Session, upload_id: str) -> None:
    """Queue the upload's processing once `session` commits (nothing if it rolls back)."""
    waiting: list[str] | None = session.info.get(_AFTER_COMMIT)
    if waiting is None:
        waiting = session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _enqueue_waiting)
        event.listen(session, "after_soft_rollback", _forget_waiting)
    waiting.append(upload_id)


def _enqueue_waiting(session: Session) -> None:
    waiting: list[str] = session.info.get(_AFTER_COMMIT, [])
    ready, waiting[:] = list(waiting), []
    for upload_id in ready:
        enqueue_processing(upload_id)


def _forget_waiting(session: Session, _previous: object) -> None:
    session.info.get(_AFTER_COMMIT, []).clear()


def queue_unprocessed(*, now: datetime | None = None) -> list[str]:
    """Queue the ready uploads still unprocessed a minute after completing and not already
    waiting in the queue. Returns their ids."""
    before = (now or utcnow()) - SWEEP_AFTER
    with session_scope() as session:
        ids = session.exec(
            select(Upload.id)
            .where(
                Upload.status == "ready",
                col(Upload.processed_at).is_(None),
                # completed_at is set by `complete`; created_at stands in should it be missing.
                func.coalesce(Upload.completed_at, Upload.created_at) < before,
            )
            .order_by(func.coalesce(Upload.completed_at, Upload.created_at))
            .limit(SWEEP_LIMIT)
        ).all()
    if not ids:
        return []
    queue = get_huey()
    waiting = waiting_args(queue, PROCESS_TASK)
    queued = [upload_id for upload_id in ids if upload_id not in waiting]
    for upload_id in queued:
        queue.enqueue(register(queue).s(upload_id))
    return queued


def _process_task(upload_id: str, task: Task | None = None) -> str:
    # On the last try a failing scanner is recorded instead of raised.
    return process_upload(upload_id, last_try=task is None or not task.retries)


def process_upload(upload_id: str, *, last_try: bool = True) -> str:
    """Scan, then preview, one upload. Returns what happened: "processed", "quarantined",
    "skipped" (not ready, or done already) or "gone" (deleted meanwhile).

    Raises ScannerError when the scanner fails and this is not the last try."""
    with session_scope() as session:
        upload = _pending_work(session, upload_id)
        if upload is None:
            return "gone" if session.get(Upload, upload_id) is None else "skipped"
        project = session.get(Project, upload.project_id)
        if project is None:
            return "gone"
        storage = storage_for_project(project)
        key, mime = upload.storage_key, upload.detected_type or upload.content_type
    # The scan and the thumbnail run outside any transaction: they may take a while.
    try:
        verdict, reason = _scan(storage, key, last_try=last_try)
        if verdict is not None and verdict.infected:
            return _quarantine(storage, upload_id, key, verdict)
        preview = _preview(storage, key) if is_image_type(mime) else None
    except NotFoundError:
        return _object_missing(upload_id)
    thumbnail_key = _thumbnail_key(upload_id, key) if preview else None
    if preview is not None and thumbnail_key is not None:
        storage.put_bytes(thumbnail_key, preview.thumbnail, content_type="image/webp")
    with session_scope() as session:
        upload = _pending_work(session, upload_id)
        if upload is None:
            if thumbnail_key and session.get(Upload, upload_id) is None:
                storage.delete(thumbnail_key)  # deleted while we worked: leave nothing behind
            return "gone" if session.get(Upload, upload_id) is None else "skipped"
        upload.scan_status = "clean" if verdict is not None else "not_scanned"
        upload.scan_detail = reason
        project = session.get(Project, upload.project_id)
        if project is not None:
            # The content hash, and a public project's immutable CDN copy (cdn.py).
            publish(project, upload)
        if preview is not None:
            upload.thumbnail_key = thumbnail_key
            upload.width, upload.height = preview.width, preview.height
            upload.thumbhash = preview.thumbhash
        upload.processed_at = utcnow()
        session.add(upload)
    return "processed"


def _pending_work(session: Session, upload_id: str) -> Upload | None:
    """The upload if it still needs processing, locked on PostgreSQL so two runs can't both
    record a result."""
    upload = session.get(Upload, upload_id, with_for_update=True, populate_existing=True)
    if upload is None or upload.status != "ready" or upload.processed_at is not None:
        return None
    return upload


def _scan(storage: Storage, key: str, *, last_try: bool) -> tuple[ScanVerdict | None, str | None]:
    """The verdict, or (None, why not scanned)."""
    try:
        scanner = scanner_from_settings(get_settings())
    except ConfigurationError as e:
        # Retrying can't fix a bad address; say so on the upload and in the log.
        log.error("upload not scanned: %s", e)
        return None, f"The virus scanner is misconfigured: {e}"[:200]
    if scanner is None:
        return None, NO_SCANNER
    try:
        return scanner.scan(storage.open_stream(key)), None
    except ScannerError as e:
        if not last_try:
            raise
        log.warning("upload not scanned: %s", e)
        return None, f"The virus scanner failed: {e}"[:200]


def _quarantine(storage: Storage, upload_id: str, key: str, verdict: ScanVerdict) -> str:
    with session_scope() as session:
        upload = _pending_work(session, upload_id)
        if upload is None:
            return "gone" if session.get(Upload, upload_id) is None else "skipped"
        # Copied first and the original deleted only after the commit: a crash in between
        # leaves an extra copy, never a row pointing at nothing.
        quarantine_key = f"quarantine/{upload.project_id}/{upload_id}"
        storage.put_stream(
            quarantine_key,
            stream_of(storage.open_stream(key)),
            content_type="application/octet-stream",
        )
        upload.status = "quarantined"
        upload.scan_status = "infected"
        upload.scan_detail = verdict.signature
        upload.storage_key = quarantine_key
        upload.processed_at = utcnow()
        session.add(upload)
        emit(
            session,
            project_id=upload.project_id,
            event_type="upload.infected",
            data=upload_data(upload),
        )
        tell_owner_of_failure(session, upload)
    storage.delete(key)
    log.warning("upload quarantined", extra={"upload": upload_id, "signature": verdict.signature})
    return "quarantined"


def _preview(storage: Storage, key: str) -> Preview | None:
    """The preview, or None when the bytes are no image we can decode (or a pixel bomb)."""
    settings = get_settings()
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        for chunk in storage.open_stream(key):
            spool.write(chunk)
        spool.seek(0)
        try:
            return make_preview(
                spool, max_pixels=settings.max_image_pixels, size=settings.thumbnail_size
            )
        except (InvalidImageError, ImageTooLargeError) as e:
            log.info("no preview for %s: %s", key, e)
            return None


def _thumbnail_key(upload_id: str, key: str) -> str:
    """Beside the object: same folder, named by the upload id (short and unique)."""
    folder = str(PurePosixPath(key).parent)
    return f"{upload_id}.thumb.webp" if folder == "." else f"{folder}/{upload_id}.thumb.webp"


def _object_missing(upload_id: str) -> str:
    with session_scope() as session:
        upload = _pending_work(session, upload_id)
        if upload is None:
            return "gone" if session.get(Upload, upload_id) is None else "skipped"
        upload.scan_status = "not_scanned"
        upload.scan_detail = "The file was missing from storage."
        upload.processed_at = utcnow()
        session.add(upload)
    return "processed"

"""Complete: check what the client stored against what it declared, and settle the upload.

A multipart upload is joined first. Then the object is HEADed (size must equal the declared
size) and its first bytes sniffed (file_types.check_content). The upload ends `ready`, or
`rejected` with a reason and its object deleted; the matching webhook event is emitted in the
same transaction. Completing again answers the settled upload, and only the first call emits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from app.services.accounts.api_keys import KeyAuth
from app.services.core import metrics
from app.services.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.core.models import Project, Upload, utcnow
from app.services.core.storage import Storage
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.expiry import expiry_for
from app.services.uploads.file_types import check_content
from app.services.uploads.owner_emails import tell_owner_of_failure
from app.services.uploads.processing import enqueue_processing_after_commit
from app.services.uploads.views import upload_data
from app.services.webhooks.outbox import emit

SNIFF_BYTES = 64 * 1024  # enough for any signature and most image headers (EXIF included)
NOT_UPLOADED = "Nothing is stored for {id} yet: PUT the file to its URL first, then complete it."


def get_project_upload(session: Session, auth: KeyAuth, upload_id: str) -> Upload:
    """The upload if it belongs to the key's project; another project's is "not found"."""
    upload = session.get(Upload, upload_id) if upload_id.startswith("up_") else None
    if upload is None or upload.project_id != auth.project_id:
        raise NotFoundError("No such upload in this project.")
    return upload


def complete_upload(
    session: Session,
    auth: KeyAuth,
    upload_id: str,
    *,
    parts: Sequence[tuple[int, str]] | None = None,
) -> Upload:
    """Settle a pending upload as `ready` or `rejected`; a settled one is answered as it is.

    ConflictError (409) when nothing was stored yet or the parts don't match."""
    upload = get_project_upload(session, auth, upload_id)
    if upload.status != "pending":
        return upload
    project = session.get(Project, upload.project_id)
    if project is None:
        raise NotFoundError("No such upload in this project.")
    storage = storage_for_project(project)
    if upload.multipart_id:
        _join_parts(storage, upload, parts)
    elif parts:
        raise InvalidInputError("This upload is a single PUT: complete it without `parts`.")
    try:
        head = storage.head(upload.storage_key)
    except NotFoundError as e:
        raise ConflictError(NOT_UPLOADED.format(id=upload.id)) from e
    if head.size != upload.size:
        reason = f"The stored file is {head.size:,} bytes; {upload.size:,} were declared."
        return _settle(session, storage, upload, status="rejected", reason=reason)
    prefix = storage.read_prefix(upload.storage_key, SNIFF_BYTES)
    verdict = check_content(
        declared=upload.content_type, prefix=prefix, allowed=list(project.allowed_types)
    )
    found: dict[str, Any] = {
        "detected_type": verdict.detected_type[:100],
        "width": verdict.width,
        "height": verdict.height,
    }
    if verdict.reason:
        return _settle(session, storage, upload, status="rejected", reason=verdict.reason, **found)
    found["expires_at"] = expiry_for(project, utcnow())
    return _settle(session, storage, upload, status="ready", reason=None, **found)


def _join_parts(storage: Storage, upload: Upload, parts: Sequence[tuple[int, str]] | None) -> None:
    assert upload.multipart_id is not None
    if not parts:
        raise InvalidInputError(
            "This is a multipart upload: list each part's `part_number` and the `etag` its PUT "
            "answered."
        )
    count = upload.part_count or 0
    numbers = [number for number, _ in parts]
    if sorted(numbers) != list(range(1, count + 1)):
        raise InvalidInputError(f"List every part, 1 to {count}, each once.")
    ordered = sorted(parts)
    try:
        storage.complete_multipart(upload.storage_key, upload_id=upload.multipart_id, parts=ordered)
    except ConflictError:
        # A retry after the store joined the parts but before we recorded it: the upload is
        # gone from the store and the object is there. Anything else is the client's to fix.
        if storage.exists(upload.storage_key):
            return
        raise


def _settle(
    session: Session,
    storage: Storage,
    upload: Upload,
    *,
    status: str,
    reason: str | None,
    **found: Any,
) -> Upload:
    """Record the outcome once: of two completes racing, only the first writes and emits."""
    won = session.execute(
        update(Upload)
        .where(col(Upload.id) == upload.id, col(Upload.status) == "pending")
        .values(status=status, reason=reason, completed_at=utcnow(), **found)
        .execution_options(synchronize_session=False)
    )
    session.refresh(upload)
    if getattr(won, "rowcount", 0) != 1:
        return upload
    metrics.UPLOADS.labels(status=status).inc()
    metrics.UPLOAD_BYTES.labels(status=status).inc(upload.size)
    if status == "rejected":
        storage.delete(upload.storage_key)
        tell_owner_of_failure(session, upload)
    else:
        # Scan and thumbnail: queued once this commits; a lost enqueue is swept up later.
        enqueue_processing_after_commit(session, upload.id)
    event = "upload.completed" if status == "ready" else "upload.rejected"
    emit(session, project_id=upload.project_id, event_type=event, data=upload_data(upload))
    return upload

"""Public files served through a CDN: content-addressed copies with long cache headers.

`publish` hashes a ready upload and, for a "public-read" project, copies it inside the store to
`cdn/<sha256[:2]>/<sha256>.<ext>` with `Cache-Control: public, max-age=31536000, immutable`:
the key changes whenever the bytes do, so a CDN may cache it forever. `public_url` is where a
browser fetches the file: `<CDN base URL>/<cdn key>` when a CDN fronts the project's bucket
(CDN_BASE_URL for the app's storage, the project's own for its own bucket), else a presigned
link from the store.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re

from sqlmodel import Session, select

from app.services.core.errors import ConflictError, InvalidInputError
from app.services.core.models import Project, Upload
from app.services.core.storage import validate_key
from app.services.uploads.buckets import CDN_SETTING, storage_for_project
from app.settings import get_settings

CDN_PREFIX = "cdn"
IMMUTABLE = "public, max-age=31536000, immutable"
# mimetypes' first guess for some types is an odd one (.jpe, .asc): the usual names instead.
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/svg+xml": "svg",
    "text/plain": "txt",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
}


def extension_for(content_type: str) -> str:
    bare = content_type.split(";", 1)[0].strip().lower()
    if bare in _EXTENSIONS:
        return _EXTENSIONS[bare]
    guessed = mimetypes.guess_extension(bare) or ".bin"
    ext = guessed.lstrip(".").lower()
    return ext if ext.isalnum() and len(ext) <= 10 else "bin"


def cdn_key(sha256_hex: str, content_type: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256_hex):
        raise InvalidInputError("A content hash must be 64 lowercase hexadecimal characters.")
    return validate_key(f"{CDN_PREFIX}/{sha256_hex[:2]}/{sha256_hex}.{extension_for(content_type)}")


def upload_type(upload: Upload) -> str:
    return upload.detected_type or upload.content_type or "application/octet-stream"


def cdn_base_url(project: Project) -> str:
    """The CDN in front of the project's bucket, or "" when there is none."""
    if project.bucket_name:
        return str((project.settings or {}).get(CDN_SETTING) or "").rstrip("/")
    return (get_settings().cdn_base_url or "").rstrip("/")


def publish(project: Project, upload: Upload) -> Upload:
    """Hash a ready upload (sets `sha256`) and, for a public-read project, put its
    content-addressed public copy in place (sets `cdn_key`). The caller commits.

    Idempotent: a copy already there (the same bytes uploaded before) is reused."""
    if upload.project_id != project.id:
        raise ConflictError("This upload belongs to another project.")
    if upload.status != "ready":
        raise ConflictError("Only a ready upload can be published.")
    storage = storage_for_project(project)
    if upload.sha256 is None:
        digest = hashlib.sha256()
        for chunk in storage.open_stream(upload.storage_key):
            digest.update(chunk)
        upload.sha256 = digest.hexdigest()
    if project.acl == "public-read":
        content_type = upload_type(upload)
        target = cdn_key(upload.sha256, content_type)
        if not storage.exists(target):
            storage.copy(
                upload.storage_key, target, content_type=content_type, cache_control=IMMUTABLE
            )
        upload.cdn_key = target
    return upload


def public_url(project: Project, upload: Upload) -> str:
    """Where a browser fetches the upload: the CDN for a published public file when a CDN is
    set, else a presigned link to the public copy (or the original for private projects)."""
    if upload.status != "ready":
        raise ConflictError("This upload is not ready.")
    base = cdn_base_url(project)
    if project.acl == "public-read" and upload.cdn_key and base:
        return f"{base}/{upload.cdn_key}"
    storage = storage_for_project(project)
    key = upload.cdn_key if project.acl == "public-read" and upload.cdn_key else upload.storage_key
    return storage.presigned_get_url(key, download_name=upload.name)


def unpublish(session: Session, project: Project, upload: Upload) -> None:
    """Delete the upload's public copy unless another upload of the project shares it (same
    bytes, same key). Call before deleting or expiring the upload's row."""
    if not upload.cdn_key:
        return
    others = session.exec(
        select(Upload.id).where(
            Upload.project_id == project.id,
            Upload.cdn_key == upload.cdn_key,
            Upload.id != upload.id,
        )
    ).first()
    if others is None:
        storage_for_project(project).delete(upload.cdn_key)
    upload.cdn_key = None

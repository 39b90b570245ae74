"""An upload as the API and webhooks show it: one shape for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.services.core.models import Upload


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def upload_data(upload: Upload) -> dict[str, Any]:
    """The upload's metadata (no URL: links are signed per request, and expire)."""
    return {
        "id": upload.id,
        "project_id": upload.project_id,
        "key": upload.storage_key,
        "name": upload.name,
        "size": upload.size,
        "type": upload.detected_type or upload.content_type,
        "status": upload.status,
        "reason": upload.reason,
        "scan_status": upload.scan_status,
        "scan_detail": upload.scan_detail,
        "sha256": upload.sha256,
        "width": upload.width,
        "height": upload.height,
        "thumbhash": upload.thumbhash,
        "created_at": _iso(upload.created_at),
        "completed_at": _iso(upload.completed_at),
        "expires_at": _iso(upload.expires_at),
    }

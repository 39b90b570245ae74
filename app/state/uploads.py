"""Image uploads on the home page: validated, stored, thumbnailed, listed."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.db import session_scope
from app.services.gallery import list_user_assets
from app.services.images import ingest_image
from app.services.storage import get_storage
from app.state.base import run_service, user_message
from app.state.session import SessionState

UPLOAD_ID = "image-upload"
MAX_FILES = 10


def _ingest(user_id: int, stream: Any, filename: str) -> None:
    with session_scope() as session:
        ingest_image(
            session=session,
            storage=get_storage(),
            owner_id=user_id,
            stream=stream,
            filename=filename,
        )


def _recent(user_id: int) -> list[dict[str, Any]]:
    storage = get_storage()
    with session_scope() as session:
        assets = list_user_assets(session=session, owner_id=user_id, limit=24)
        return [
            {
                "id": a.id,
                "name": a.original_filename,
                "mime": a.mime_type,
                "size": f"{a.width} × {a.height}",
                "kb": f"{a.size_bytes / 1024:,.0f} KB",
                "thumbnail_url": storage.presigned_get_url(a.thumbnail_key)
                if a.thumbnail_key
                else "",
            }
            for a in assets
        ]


class UploadState(SessionState):
    uploads: list[dict[str, Any]] = []
    errors: list[str] = []
    uploading: bool = False

    @rx.event
    async def load_uploads(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        self.uploads = await run_service(_recent, int(self.user_id))
        return None

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            yield rx.toast.error("Sign in to upload images.")
            return
        if len(files) > MAX_FILES:
            yield rx.toast.error(f"Upload at most {MAX_FILES} images at a time.")
            return
        self.uploading, self.errors = True, []
        yield
        stored = 0
        for file in files:
            name = file.filename or "upload"
            try:
                await run_service(_ingest, int(self.user_id), file.file, name)
                stored += 1
            except Exception as e:  # one bad file must not stop the others
                self.errors.append(f"{name}: {user_message(e)}")
        self.uploads = await run_service(_recent, int(self.user_id))
        self.uploading = False
        if stored:
            yield rx.toast.success(f"Stored {stored} image{'s' if stored != 1 else ''}.")
        for message in self.errors:
            yield rx.toast.error(message)

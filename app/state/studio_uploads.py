"""`/studio`'s files: picked ones wait on disk until Run (services/studio/staging.py)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.core.errors import UserFacingError
from app.services.studio import staging
from app.state.base import run_service, user_message
from app.state.studio import StudioState

MAX_PICKED = 500  # files in one pick list; zips count once here, their images count in the job


class StudioUploadsState(StudioState):
    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        self.uploading = False
        await self._refresh()
        if not self.user_id:
            yield rx.toast.error("Sign in to use the studio.")
            return
        if not self._staging:
            self._staging = await run_service(staging.new_staging_dir, int(self.user_id))
        problems, added = [], []
        for file in files[: max(0, MAX_PICKED - len(self.files))]:
            name = file.filename or "image"
            try:
                row = await run_service(staging.stage, self._staging, name=name, stream=file.file)
            except (UserFacingError, OSError) as e:
                problems.append(f"{name}: {user_message(e)}")
                continue
            self._paths = {**self._paths, str(row["id"]): str(row.pop("path"))}
            if row["kind"] == "zip" and not row["images"]:
                problems.append(f"{name}: no images found inside this zip.")
            added.append(row)
        if len(files) > len(added) + len(problems):
            problems.append(f"Only {MAX_PICKED} files fit in one job; the rest were left out.")
        self.files = [*self.files, *added]
        self.upload_error = " ".join(problems)
        await self._reprice()

    @rx.event
    def start_upload(self, progress: dict[str, Any]) -> None:
        self.uploading = float(progress.get("progress", 1) or 0) < 1

    @rx.event
    async def remove_file(self, file_id: str) -> None:
        # Assigned, not popped in place: the dict lives on the parent state, which must see
        # the change to save it.
        paths = dict(self._paths)
        path = paths.pop(file_id, "")
        self._paths = paths
        if path:
            await run_service(staging.remove, path)
        self.files = [f for f in self.files if f["id"] != file_id]
        await self._reprice()

    @rx.event
    async def clear_files(self) -> None:
        await run_service(staging.discard, self._staging)
        self._staging, self._paths, self.files, self.upload_error = "", {}, [], ""
        await self._reprice()

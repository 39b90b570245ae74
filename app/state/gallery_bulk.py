"""The gallery's selection and what is done to it: tag, trash, restore, export as a bundle;
and importing a bundle. The selection and the import report show with the grid (GalleryState),
which is reloaded after every change."""

from __future__ import annotations

import io
from typing import Any

import reflex as rx

from app.services.core.storage import get_storage
from app.services.library import bundles, prompt_ops
from app.state.base import as_signed_in, run_service, user_message
from app.state.gallery import GalleryState
from app.state.session import SessionState

IMPORT_ID = "bundle-upload"


class GalleryBulkState(SessionState):
    @rx.event
    async def toggle_select(self, prompt_id: int) -> None:
        grid = await self.get_state(GalleryState)
        pid = int(prompt_id)
        grid.selected = (
            [i for i in grid.selected if i != pid]
            if pid in grid.selected
            else [*grid.selected, pid]
        )

    @rx.event
    async def clear_selection(self) -> None:
        (await self.get_state(GalleryState)).selected = []

    async def _bulk(self, fn: Any, done: str):  # type: ignore[no-untyped-def]
        grid = await self.get_state(GalleryState)
        ids = list(grid.selected)
        if not ids:
            return rx.toast.info("Select prompts first.")
        try:
            count = await run_service(as_signed_in, self.token, lambda s, v: fn(s, v, ids))
        except Exception as e:  # permissions and bad input come back as messages
            return rx.toast.error(user_message(e))
        grid.selected = []
        await grid._reload()
        return rx.toast.success(done.format(n=count))

    @rx.event
    async def bulk_tag(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        tag, action = str(form.get("tag", "")).strip(), str(form.get("action", "add"))
        if not tag:
            return rx.toast.info("Type a tag.")
        add, remove = ([tag], []) if action != "remove" else ([], [tag])
        return await self._bulk(
            lambda s, v, ids: prompt_ops.bulk_tag(
                s, prompt_ids=ids, viewer=v, add=add, remove=remove
            ),
            "Updated tags on {n} prompt(s).",
        )

    @rx.event
    async def bulk_trash(self):  # type: ignore[no-untyped-def]
        return await self._bulk(
            lambda s, v, ids: prompt_ops.trash(s, prompt_ids=ids, viewer=v),
            "Moved {n} prompt(s) to the trash.",
        )

    @rx.event
    async def bulk_restore(self):  # type: ignore[no-untyped-def]
        return await self._bulk(
            lambda s, v, ids: prompt_ops.restore(s, prompt_ids=ids, viewer=v),
            "Restored {n} prompt(s).",
        )

    @rx.event
    async def bulk_export(self):  # type: ignore[no-untyped-def]
        ids = list((await self.get_state(GalleryState)).selected)
        if not ids:
            return rx.toast.info("Select prompts first.")

        def export(session: Any, viewer: Any) -> bytes:
            buf = io.BytesIO()
            bundles.export_bundle(
                session, storage=get_storage(), owner=viewer, out=buf, prompt_ids=ids
            )
            return buf.getvalue()

        try:
            data = await run_service(as_signed_in, self.token, export)
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return rx.download(data=data, filename=f"jsoncraft-{len(ids)}-prompts.zip")

    @rx.event
    async def import_bundle(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        if not files:
            return None
        file = files[0]

        def run(session: Any, viewer: Any) -> dict[str, Any]:
            report = bundles.import_bundle(
                session,
                storage=get_storage(),
                owner=viewer,
                source=file.file,
                filename=file.filename or "bundle.zip",
            )
            return report.as_dict()

        grid = await self.get_state(GalleryState)
        try:
            grid.import_report = await run_service(as_signed_in, self.token, run)
        except bundles.BundleRejectedError as e:  # bad items: say which, nothing imported
            grid.import_report = {**e.report.as_dict(), "ok": False}
            return None
        except Exception as e:  # a broken zip or a bomb: a clear message, nothing imported
            grid.import_report = {"ok": False, "message": user_message(e), "errors": []}
            return None
        await grid._reload()
        if grid.import_report.get("ok"):
            return rx.toast.success(
                f"Imported {grid.import_report.get('imported', 0)} prompt(s); "
                f"skipped {grid.import_report.get('skipped_duplicates', 0)} duplicate(s)."
            )
        return None

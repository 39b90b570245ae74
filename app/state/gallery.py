"""`/gallery`: search, filters, grid/list, infinite scroll, bulk actions, trash, bundles."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import reflex as rx

from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.library import bundles, gallery, prompt_ops
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

IMPORT_ID = "bundle-upload"
FILTER_KEYS = (
    "text",
    "tags",
    "model",
    "style",
    "owner",
    "date_from",
    "date_to",
    "favorites",
    "trash",
)
# Every key always present: the filter inputs are controlled and read their value from here.
NO_FILTERS = dict.fromkeys(FILTER_KEYS, "")


def _card(c: gallery.PromptCard) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "model": c.model,
        "style": c.style,
        "author": c.author,
        "created": c.created_at.strftime("%d %b %Y"),
        "tags": c.tags[:4],
        "thumbnail_url": c.thumbnail_url,
        "visibility": c.visibility,
        "favorite": c.is_favorite,
        "rating": c.rating or 0,
    }


def _date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _page(
    token: str, filters: dict[str, Any], cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        query = gallery.GalleryQuery(
            text=str(filters.get("text", ""))[:500],
            tags=tuple(t for t in str(filters.get("tags", "")).split(",") if t.strip()),
            owner=filters.get("owner") or None,
            date_from=_date(str(filters.get("date_from", ""))),
            date_to=_date(str(filters.get("date_to", ""))),
            model=str(filters.get("model", "")),
            style=str(filters.get("style", "")),
            favorites_only=bool(filters.get("favorites")),
            trash_only=bool(filters.get("trash")),
        )
        page = gallery.list_prompts(
            session, storage=get_storage(), viewer=viewer, query=query, cursor=cursor
        )
    return [_card(c) for c in page.items], page.next_cursor


class GalleryState(SessionState):
    cards: list[dict[str, Any]] = []
    next_cursor: str = ""
    loading: bool = True  # the first paint shows a spinner, not "empty", until the page loads
    error: str = ""
    view: str = "grid"
    filters: dict[str, str] = dict(NO_FILTERS)
    selected: list[int] = []
    saved: list[dict[str, Any]] = []
    import_report: dict[str, Any] = {}

    @rx.var
    def selection_count(self) -> int:
        return len(self.selected)

    @rx.var
    def in_trash(self) -> bool:
        return bool(self.filters.get("trash"))

    async def _reload(self) -> None:
        self.loading, self.error = True, ""
        try:
            self.cards, cursor = await run_service(_page, self.token, dict(self.filters), None)
            self.next_cursor = cursor or ""
        except Exception as e:  # shown on the page instead of a blank grid
            self.cards, self.next_cursor, self.error = [], "", user_message(e)
        self.loading = False

    @rx.event
    async def load_gallery(self) -> None:
        await self._refresh()
        self.selected, self.import_report = [], {}
        if self.user_id:
            self.saved = await run_service(
                as_signed_in,
                self.token,
                lambda s, v: [
                    {"id": f.id, "name": f.name, "query": f.query}
                    for f in gallery.list_filters(s, user=v)
                ],
            )
        await self._reload()

    @rx.event
    def set_filter(self, key: str, value: str | bool) -> None:
        if key in FILTER_KEYS:
            text = ("on" if value else "") if isinstance(value, bool) else str(value)[:500]
            self.filters = {**self.filters, key: text}

    @rx.event
    async def apply_filters(self, _form: dict[str, Any] | None = None) -> None:
        self.selected = []
        await self._reload()

    @rx.event
    async def clear_filters(self) -> None:
        self.filters, self.selected = dict(NO_FILTERS), []
        await self._reload()

    @rx.event
    async def show_trash(self, on: bool) -> None:
        self.filters = {**NO_FILTERS, "trash": "on" if on else ""}
        self.selected = []
        await self._reload()

    @rx.event
    async def load_more(self) -> None:
        if not self.next_cursor or self.loading:
            return
        self.loading = True
        try:
            more, cursor = await run_service(
                _page, self.token, dict(self.filters), self.next_cursor
            )
            self.cards = self.cards + more
            self.next_cursor = cursor or ""
        except Exception as e:  # shown on the page
            self.error = user_message(e)
        self.loading = False

    @rx.event
    def set_view(self, view: str | list[str]) -> None:
        self.view = "list" if view == "list" else "grid"

    @rx.event
    def toggle_select(self, prompt_id: int) -> None:
        pid = int(prompt_id)
        self.selected = (
            [i for i in self.selected if i != pid]
            if pid in self.selected
            else [*self.selected, pid]
        )

    @rx.event
    def clear_selection(self) -> None:
        self.selected = []

    async def _bulk(self, fn: Any, done: str):  # type: ignore[no-untyped-def]
        ids = list(self.selected)
        if not ids:
            return rx.toast.info("Select prompts first.")
        try:
            count = await run_service(as_signed_in, self.token, lambda s, v: fn(s, v, ids))
        except Exception as e:  # permissions and bad input come back as messages
            return rx.toast.error(user_message(e))
        self.selected = []
        await self._reload()
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
        ids = list(self.selected)
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
    async def save_current_filter(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        name = str(form.get("name", "")).strip()
        query = dict(self.filters)
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, v: gallery.save_filter(
                    s,
                    user=v,
                    name=name,
                    query=gallery.GalleryQuery(
                        text=query.get("text", ""),
                        tags=tuple(t for t in query.get("tags", "").split(",") if t.strip()),
                        model=query.get("model", ""),
                        style=query.get("style", ""),
                        owner=query.get("owner") or None,
                        favorites_only=bool(query.get("favorites")),
                    ),
                ),
            )
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        await self.load_gallery()
        return rx.toast.success(f"Saved filter “{name}”.")

    @rx.event
    async def apply_saved(self, filter_id: int) -> None:
        chosen = next((f for f in self.saved if f["id"] == int(filter_id)), None)
        if chosen is None:
            return
        q = chosen["query"]
        self.filters = {
            **NO_FILTERS,
            **{
                "text": q.get("text", ""),
                "tags": ",".join(q.get("tags", [])),
                "model": q.get("model", ""),
                "style": q.get("style", ""),
                "owner": str(q.get("owner") or ""),
                "favorites": "on" if q.get("favorites_only") else "",
            },
        }
        await self._reload()

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

        try:
            self.import_report = await run_service(as_signed_in, self.token, run)
        except bundles.BundleRejectedError as e:  # bad items: say which, nothing imported
            self.import_report = {**e.report.as_dict(), "ok": False}
            return None
        except Exception as e:  # a broken zip or a bomb: a clear message, nothing imported
            self.import_report = {"ok": False, "message": user_message(e), "errors": []}
            return None
        await self._reload()
        if self.import_report.get("ok"):
            return rx.toast.success(
                f"Imported {self.import_report.get('imported', 0)} prompt(s); "
                f"skipped {self.import_report.get('skipped_duplicates', 0)} duplicate(s)."
            )
        return None

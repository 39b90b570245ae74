"""The gallery's saved filters: keep the current filters under a name, apply one again."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.library import gallery
from app.state.base import as_signed_in, run_service, user_message
from app.state.gallery import NO_FILTERS, GalleryState
from app.state.session import SessionState


def _saved(session: Any, viewer: Any) -> list[dict[str, Any]]:
    return [
        {"id": f.id, "name": f.name, "query": f.query}
        for f in gallery.list_filters(session, user=viewer)
    ]


def _query(filters: dict[str, str]) -> gallery.GalleryQuery:
    """What a saved filter keeps of the gallery's filters (not the dates, not the trash)."""
    return gallery.GalleryQuery(
        text=filters.get("text", ""),
        tags=tuple(t for t in filters.get("tags", "").split(",") if t.strip()),
        model=filters.get("model", ""),
        style=filters.get("style", ""),
        origin=filters.get("origin", ""),
        owner=filters.get("owner") or None,
        favorites_only=bool(filters.get("favorites")),
    )


def _filters(query: dict[str, Any]) -> dict[str, str]:
    """A saved query back as the gallery's filter inputs, every key present."""
    return {
        **NO_FILTERS,
        "text": query.get("text", ""),
        "tags": ",".join(query.get("tags", [])),
        "model": query.get("model", ""),
        "style": query.get("style", ""),
        "origin": str(query.get("origin") or ""),
        "owner": str(query.get("owner") or ""),
        "favorites": "on" if query.get("favorites_only") else "",
    }


class SavedFiltersState(SessionState):
    saved: list[dict[str, Any]] = []

    @rx.event
    async def load_saved_filters(self) -> None:
        """Runs after GalleryState.load_gallery, which has refreshed who is signed in."""
        if self.user_id:
            self.saved = await run_service(as_signed_in, self.token, _saved)

    @rx.event
    async def save_current_filter(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        name = str(form.get("name", "")).strip()
        grid = await self.get_state(GalleryState)
        query = _query(dict(grid.filters))
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, v: gallery.save_filter(s, user=v, name=name, query=query),
            )
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        await grid.load_gallery()
        await self.load_saved_filters()
        return rx.toast.success(f"Saved filter “{name}”.")

    @rx.event
    async def apply_saved(self, filter_id: int) -> None:
        chosen = next((f for f in self.saved if f["id"] == int(filter_id)), None)
        if chosen is None:
            return
        grid = await self.get_state(GalleryState)
        grid.filters = _filters(chosen["query"])
        await grid._reload()

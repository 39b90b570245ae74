"""`/gallery`: search, filters, grid/list, infinite scroll and trash.

The page's other parts reach this state with `get_state`: selection, bulk actions and bundles
in GalleryBulkState (gallery_bulk.py), saved filters in SavedFiltersState (saved_filters.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.generation.labels import known_models, model_labels
from app.services.library import gallery
from app.state.base import run_service, user_message
from app.state.session import SessionState

FILTER_KEYS = (
    "text",
    "tags",
    "model",
    "style",
    "origin",
    "owner",
    "date_from",
    "date_to",
    "favorites",
    "trash",
)
# Every key always present: the filter inputs are controlled and read their value from here.
NO_FILTERS = dict.fromkeys(FILTER_KEYS, "")


def _made_by(c: gallery.PromptCard, labels: dict[str, str]) -> str:
    """ "Generated · FLUX.1 [schnell]", "Generated · Layout preview", "Analyzed · <model>"."""
    kind = "Generated" if c.origin == "generated" else "Analyzed"
    label = labels.get(c.model, c.model)
    return f"{kind} · {label}" if label else kind


def _card(c: gallery.PromptCard, labels: dict[str, str]) -> dict[str, Any]:
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
        "origin": c.origin,
        "made_by": _made_by(c, labels),
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
            origin=str(filters.get("origin", "")),
            favorites_only=bool(filters.get("favorites")),
            trash_only=bool(filters.get("trash")),
        )
        page = gallery.list_prompts(
            session, storage=get_storage(), viewer=viewer, query=query, cursor=cursor
        )
    labels = model_labels(c.model for c in page.items)
    return [_card(c, labels) for c in page.items], page.next_cursor


class GalleryState(SessionState):
    cards: list[dict[str, Any]] = []
    next_cursor: str = ""
    loading: bool = True  # the first paint shows a spinner, not "empty", until the page loads
    error: str = ""
    view: str = "grid"
    filters: dict[str, str] = dict(NO_FILTERS)
    # Shown with the grid, changed by GalleryBulkState; a new listing clears the selection.
    selected: list[int] = []
    import_report: dict[str, Any] = {}
    # Suggestions for the model filter: generating models and analysers, by their names.
    model_choices: list[dict[str, str]] = []

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
        if not self.model_choices:
            models = await run_service(known_models)
            self.model_choices = [{"id": m, "label": label} for m, label in models]
        await self._reload()

    @rx.event
    def set_filter(self, key: str, value: str | bool) -> None:
        if key in FILTER_KEYS:
            text = ("on" if value else "") if isinstance(value, bool) else str(value)[:500]
            self.filters = {**self.filters, key: text}

    @rx.event
    async def filter_origin(self, value: str) -> None:
        """All / Analyzed / Generated applies at once, as a tab would."""
        self.filters = {**self.filters, "origin": value if value in gallery.ORIGINS else ""}
        self.selected = []
        await self._reload()

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

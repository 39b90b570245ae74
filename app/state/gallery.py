"""The public gallery: cards, newest first, with "load more" by keyset cursor."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services import gallery
from app.services.auth import user_for_token
from app.services.db import session_scope
from app.services.storage import get_storage
from app.state.base import run_service, user_message
from app.state.session import SessionState


def _page(token: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        page = gallery.list_prompts(session, storage=get_storage(), viewer=viewer, cursor=cursor)
    cards = [
        {
            "id": c.id,
            "title": c.title,
            "model": c.model,
            "style": c.style,
            "author": c.author,
            "created": c.created_at.strftime("%d %b %Y"),
            "tags": c.tags[:4],
            "thumbnail_url": c.thumbnail_url,
            "visibility": c.visibility,
        }
        for c in page.items
    ]
    return cards, page.next_cursor


class GalleryState(SessionState):
    cards: list[dict[str, Any]] = []
    next_cursor: str = ""
    loading: bool = True  # the first paint shows a spinner, not "empty", until the page loads
    error: str = ""

    @rx.event
    async def load_gallery(self) -> None:
        await self._refresh()
        self.loading, self.error = True, ""
        try:
            self.cards, cursor = await run_service(_page, self.token, None)
            self.next_cursor = cursor or ""
        except Exception as e:  # shown on the page instead of a blank grid
            self.error = user_message(e)
        self.loading = False

    @rx.event
    async def load_more(self) -> None:
        if not self.next_cursor or self.loading:
            return
        self.loading = True
        try:
            more, cursor = await run_service(_page, self.token, self.next_cursor)
            self.cards = self.cards + more
            self.next_cursor = cursor or ""
        except Exception as e:  # shown on the page
            self.error = user_message(e)
        self.loading = False

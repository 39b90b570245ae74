"""`/share/[token]`: a read-only prompt anyone with the link can see, no sign-in."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.library import prompt_ops
from app.state.base import run_service, user_message
from app.state.prompt_view import cards, pretty


def _shared(token: str) -> dict[str, Any]:
    with session_scope() as session:
        shared = prompt_ops.get_shared(session, token=token, storage=get_storage())
        return {
            "title": shared.title,
            "author": shared.author,
            "version": shared.version,
            "tags": shared.tags,
            "image_url": shared.image_url,
            "data": shared.data,
        }


class ShareState(rx.State):
    title: str = ""
    author: str = ""
    version: int = 0
    tags: list[str] = []
    image_url: str = ""
    cards: list[dict[str, Any]] = []
    json_text: str = ""
    error: str = ""

    @rx.event
    async def load_shared(self) -> None:
        token = [p for p in self.router.url.path.split("/") if p][-1:]
        try:
            found = await run_service(_shared, token[0] if token else "")
        except Exception as e:  # an unknown or revoked link: one message
            self.error, self.cards = user_message(e), []
            return
        self.error = ""
        self.title, self.author, self.version = found["title"], found["author"], found["version"]
        self.tags, self.image_url = found["tags"], found["image_url"]
        self.cards, self.json_text = cards(found["data"]), pretty(found["data"])

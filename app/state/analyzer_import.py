"""A dropped image JSONCraft generated: say how it was made, and offer to restore the JSON
prompt it carries (no analysis, no credits) or to analyse it anyway.

AnalyzerChatState.handle_upload asks `found_details` before it starts an analysis; a file
without our details (or with details that can't be trusted) goes on to the analysis as always.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.generation import restore
from app.state.analyzer import AnalyzerState
from app.state.base import run_service, user_message


def _details(user_id: int, asset_id: int) -> dict[str, Any]:
    with session_scope() as session:
        found = restore.embedded_in_asset(
            session, storage=get_storage(), user_id=user_id, asset_id=asset_id
        )
    if found is None:
        return {}
    return {
        "summary": found.summary,
        "can_restore": found.prompt is not None,
        "note": "" if found.prompt is not None else restore.NO_JSON,
    }


def _restore(user_id: int, asset_id: int) -> int:
    with session_scope() as session:
        return restore.restore_to_gallery(
            session, storage=get_storage(), user_id=user_id, asset_id=asset_id
        )


class AnalyzerImportState(AnalyzerState):
    embedded: dict[str, Any] = {}
    # The conversation the details belong to: another chat opened later hides them.
    embedded_conversation: int = 0
    _embedded_asset: int = 0

    @rx.var
    def shows_embedded(self) -> bool:
        """Until the person chooses: an analysis started (Retry does too) hides the choice."""
        answered = any(t.get("role") == "assistant" for t in self.turns)
        return (
            bool(self.embedded)
            and self.embedded_conversation == self.conversation_id
            and not answered
        )

    async def found_details(self, asset_id: int) -> bool:
        """Look for generation details in the image just dropped; True when it has some."""
        self.embedded, self.embedded_conversation, self._embedded_asset = {}, 0, 0
        try:
            details = await run_service(_details, int(self.user_id), asset_id)
        except Exception as e:  # reading is a nicety: the analysis still runs
            user_message(e)  # logged with an id
            return False
        if not details:
            return False
        self.embedded, self._embedded_asset = details, asset_id
        self.embedded_conversation = self.conversation_id
        return True

    @rx.event
    async def restore_prompt(self):  # type: ignore[no-untyped-def]
        if not self.shows_embedded or not self._embedded_asset:
            return rx.toast.info("Drop the generated image again to restore its prompt.")
        try:
            prompt_id = await run_service(_restore, int(self.user_id), self._embedded_asset)
        except Exception as e:  # a file whose JSON fails the schema says so here
            return rx.toast.error(user_message(e))
        self.embedded = {}
        return [
            rx.redirect(routes.prompt_url(prompt_id)),
            rx.toast.success("Restored the JSON prompt this image was made from."),
        ]

    @rx.event
    def analyze_anyway(self):  # type: ignore[no-untyped-def]
        if not self.shows_embedded or self.streaming:
            return None
        self.embedded = {}
        return AnalyzerState.run_request

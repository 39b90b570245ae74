"""The analyzer's past conversations: start a new one, reopen one, save the thread's prompt."""

from __future__ import annotations

import reflex as rx

from app.services.analyzer import chat
from app.state.analyzer import AnalyzerState
from app.state.analyzer_turns import replayed_turns
from app.state.base import run_service, user_message


class AnalyzerHistoryState(AnalyzerState):
    @rx.event
    def new_chat(self) -> None:
        self._clear_thread()

    @rx.event
    async def open_conversation(self, conversation_id: int):  # type: ignore[no-untyped-def]
        await self._refresh()
        if self.streaming or not self.user_id:
            return None
        try:
            loaded = await run_service(
                chat.reload, user_id=int(self.user_id), conversation_id=int(conversation_id)
            )
        except Exception as e:  # someone else's or a deleted conversation
            return rx.toast.error(user_message(e))
        self._clear_thread()
        self.conversation_id, self._asset_id = int(conversation_id), int(loaded.asset_id or 0)
        self.saved_prompt_id = int(loaded.prompt_id or 0)
        self.turns, self._current = replayed_turns(loaded)
        self._last_request = {"kind": "refine", "instructions": ""}
        return None

    @rx.event
    async def save(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id or not self.conversation_id:
            return rx.toast.info("Analyze an image first.")
        try:
            prompt_id, version = await run_service(
                chat.save, user_id=int(self.user_id), conversation_id=self.conversation_id
            )
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        self.saved_prompt_id = prompt_id
        await self._reload_history()
        return rx.toast.success(f"Saved to the gallery (version {version}).")

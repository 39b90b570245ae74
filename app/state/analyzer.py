"""The analyzer chat on `/`: upload → streamed prompt → refinements → save.

AnalyzerState holds the thread on screen and streams answers into it; its substates add the
features that change it (analyzer_chat: drop, type, retry, stop; analyzer_history: new chat,
reopen, save) and read and write its vars directly. The model picker is a sibling state
(analyzer_models) read with `get_state`. Workflows live in services/analyzer/chat.py.

The long-running analysis is a background event that holds the state lock only while applying
an update, and throttles UI pushes.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import reflex as rx

from app import routes
from app.services.analyzer import chat
from app.services.analyzer.analysis import run_analysis
from app.state.analyzer_models import AnalyzerModelsState
from app.state.analyzer_turns import assistant_turn, change_lines, user_turn
from app.state.base import run_service, user_message
from app.state.landing import LandingState
from app.state.prompt_view import cards, pretty
from app.state.session import SessionState

UPLOAD_ID = "analyzer-upload"
MESSAGE_ID = "analyzer-message"
PUSH_INTERVAL = 0.08  # seconds between UI pushes while streaming


class AnalyzerState(SessionState):
    message: str = ""
    turns: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    conversation_id: int = 0
    saved_prompt_id: int = 0
    streaming: bool = False
    upload_error: str = ""
    _asset_id: int = 0
    _current: dict[str, Any] = {}
    _stop: bool = False
    _last_request: dict[str, Any] = {}

    @rx.var
    def has_prompt(self) -> bool:
        return bool(self.conversation_id) and any(
            t.get("role") == "assistant" and t.get("status") == "done" for t in self.turns
        )

    @rx.event
    async def load_analyzer(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:  # a visitor: `/` is the landing page
            return LandingState.load_landing
        await (await self.get_state(AnalyzerModelsState))._load_models()
        await self._reload_history()
        sent = self.router.url.query_parameters.get("asset", "")
        if sent:
            return await self._open_sent(sent)
        return None

    async def _open_sent(self, asset_id: str):  # type: ignore[no-untyped-def]
        """`/?asset=ID`: open that image and describe it.

        The query is dropped from the address bar so a reload starts no second conversation,
        without a navigation: a navigation would cancel this page load's chain, and with it the
        analysis. The analysis starts from the browser for the same reason.
        """
        drop_query = f"window.history.replaceState(window.history.state, '', '{routes.HOME}')"
        if self.streaming or not asset_id.isdigit():
            return rx.call_script(drop_query)
        model = (await self.get_state(AnalyzerModelsState)).model_id
        try:
            started = await run_service(
                chat.start_from_asset,
                user_id=int(self.user_id),
                asset_id=int(asset_id),
                model=model,
            )
        except Exception as e:  # someone else's image, or it expired
            return [rx.call_script(drop_query), rx.toast.error(user_message(e))]
        self._start_thread(started)
        await self._reload_history()
        return rx.call_script(drop_query, callback=lambda _done: AnalyzerState.run_request)

    async def _reload_history(self) -> None:
        entries = await run_service(chat.history, user_id=int(self.user_id))
        self.history = [dataclasses.asdict(e) for e in entries]

    def _clear_thread(self) -> None:
        self.turns, self.conversation_id, self.saved_prompt_id = [], 0, 0
        self._current, self._asset_id, self.upload_error, self.message = {}, 0, "", ""

    def _start_thread(self, started: chat.StartedChat) -> None:
        # Text typed before the image was dropped is its instructions: read it before
        # _clear_thread() clears the box.
        instructions = self.message.strip()
        self._clear_thread()
        self.conversation_id, self._asset_id = started.conversation_id, started.asset_id
        self.turns = [user_turn(started.image.name, started.image)]
        self._last_request = {"kind": "describe", "instructions": instructions}

    @rx.event(background=True)
    async def run_request(self):  # type: ignore[no-untyped-def]
        async with self:
            if self.streaming:
                return
            request = dict(self._last_request)
            kind = request.get("kind", "describe")
            user_id, conversation_id = int(self.user_id or 0), self.conversation_id
            picker = await self.get_state(AnalyzerModelsState)
            model_id, use_memory, asset_id = picker.model_id, picker.use_memory, self._asset_id
            previous = dict(self._current)
            self.streaming, self._stop = True, False
            self.turns = [*self.turns, assistant_turn(model_id)]
        try:
            image = (
                await run_service(chat.image_input, user_id=user_id, asset_id=asset_id)
                if kind == "describe"
                else None
            )
        except Exception as e:  # the image vanished (expired upload): say so in the thread
            async with self:
                self._finish_turn(error=user_message(e))
            return
        # Describe: the service captions the image itself; refine: the request and the scene.
        memory_query = (
            f"{request.get('instructions', '')}. {previous.get('scene', '')}"
            if kind == "refine"
            else ""
        )
        updates = run_analysis(
            kind=kind,
            model_id=model_id,
            user_id=user_id,
            image=image,
            asset_id=asset_id,
            current=previous or None,
            instructions=request.get("instructions", ""),
            memory_query=memory_query,
            use_memory=use_memory,
        )
        answer = chat.AnswerSoFar()
        async with contextlib.aclosing(chat.follow(updates, interval=PUSH_INTERVAL)) as answers:
            async for answer in answers:
                async with self:
                    if answer.examples is not None:
                        self._patch_turn(examples=answer.examples)
                    if self._stop:
                        break
                    self._patch_turn(
                        reasoning=answer.reasoning,
                        cards=cards(answer.partial),
                        json=pretty(answer.partial) if answer.partial else "",
                    )
        final = answer.final
        async with self:
            if final is None:
                self._finish_turn(error="Stopped.", status="stopped")
                return
            if final.kind == "error":
                self._finish_turn(error=final.text)
                return
            data = final.data or {}
            self._current = data
            self._patch_turn(
                reasoning=answer.reasoning,
                cards=cards(data),
                json=pretty(data),
                changes=change_lines(previous, data) if kind == "refine" else [],
                notes=list(final.notes),
            )
            self._finish_turn()
        await run_service(
            chat.record_turn,
            user_id=user_id,
            conversation_id=conversation_id,
            role="assistant",
            text=answer.reasoning[-5000:],
            analysis_id=final.analysis_id,
            data=data,
            examples=[e.prompt_id for e in final.examples],
        )

    def _patch_turn(self, **values: Any) -> None:
        if not self.turns:
            return
        self.turns = [*self.turns[:-1], {**self.turns[-1], **values}]

    def _finish_turn(self, *, error: str = "", status: str = "") -> None:
        self._patch_turn(status=status or ("error" if error else "done"), error=error)
        self.streaming = False

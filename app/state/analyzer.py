"""The analyzer chat on `/`: upload → streamed prompt → refinements → save.

Handlers validate, call services, assign. The long-running analysis is a background event that
holds the state lock only while applying an update, and throttles UI pushes.
"""

from __future__ import annotations

import json
import time
from typing import Any

import reflex as rx

from app import routes
from app.services.analyzer import conversations
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.catalogue.offers import picker_page
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.local import LOCAL_MODEL_ID
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.services.core.models import Asset
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image
from app.services.library.diff import diff
from app.settings import get_settings
from app.state.base import run_service, user_message
from app.state.landing import LandingState
from app.state.prompt_view import cards, pretty
from app.state.session import SessionState

UPLOAD_ID = "analyzer-upload"
MESSAGE_ID = "analyzer-message"
PUSH_INTERVAL = 0.08  # seconds between UI pushes while streaming


def _model_options(query: str = "", keep: str = "") -> dict[str, Any]:
    """One small page of the picker: the models matching `query` (server-side search, so
    hundreds of catalogue models never travel to the browser), plus the selected one."""
    with session_scope() as session:
        page = picker_page(session, settings=get_settings(), query=query, keep=keep)
    out = []
    for option in page.models:
        info, price = option.info, option.credits
        out.append(
            {
                "id": info.model_id,
                "name": info.display_name,
                "credits": price,
                "cost": "Free" if price == 0 else f"{price} credit{'s' if price != 1 else ''}",
                "note": info.price_note,
                "description": info.description,
                "available": not option.unavailable,
                "reason": option.unavailable,
                "vision": info.vision,
                "reasoning": info.reasoning,
                "caps": " · ".join(
                    c for c, on in (("vision", info.vision), ("reasoning", info.reasoning)) if on
                ),
            }
        )
    return {"models": out, "more": page.more}


def _ingest(user_id: int, stream: Any, filename: str, model: str) -> dict[str, Any]:
    storage = get_storage()
    with session_scope() as session:
        asset = ingest_image(
            session=session, storage=storage, owner_id=user_id, stream=stream, filename=filename
        )
        assert asset.id is not None
        conversation = conversations.start(
            session, user_id=user_id, asset_id=asset.id, model=model, title=asset.original_filename
        )
        conversations.add_turn(
            session, conversation=conversation, role="user", text=asset.original_filename
        )
        return {
            "conversation_id": conversation.id,
            "asset_id": asset.id,
            "image_url": storage.presigned_get_url(asset.thumbnail_key or asset.storage_key),
            "name": asset.original_filename,
            "size": f"{asset.width} × {asset.height}",
        }


def _open_owned(user_id: int, asset_id: int, model: str) -> dict[str, Any]:
    """Start a conversation on an image the person already owns (sent here from the studio)."""
    from app.services.core.errors import NotFoundError

    storage = get_storage()
    with session_scope() as session:
        asset = session.get(Asset, asset_id)
        if asset is None or asset.owner_id != user_id:
            raise NotFoundError("That image is not available: send it from the studio again.")
        conversation = conversations.start(
            session, user_id=user_id, asset_id=asset_id, model=model, title=asset.original_filename
        )
        conversations.add_turn(
            session, conversation=conversation, role="user", text=asset.original_filename
        )
        return {
            "conversation_id": conversation.id,
            "asset_id": asset_id,
            "image_url": storage.presigned_get_url(asset.thumbnail_key or asset.storage_key),
            "name": asset.original_filename,
            "size": f"{asset.width} × {asset.height}",
        }


def _image_for(user_id: int, asset_id: int) -> ImageInput:
    with session_scope() as session:
        asset = session.get(Asset, asset_id)
        if asset is None or asset.owner_id != user_id:
            from app.services.core.errors import NotFoundError

            raise NotFoundError("That image is no longer available.")
        key, mime = asset.storage_key, asset.mime_type
    return ImageInput(data=get_storage().read_bytes(key), mime_type=mime)


def _record_turn(
    user_id: int,
    conversation_id: int,
    role: str,
    text: str,
    analysis_id: int | None,
    data: dict[str, Any] | None,
    examples: list[int],
) -> None:
    with session_scope() as session:
        conversation = conversations.owned(
            session, user_id=user_id, conversation_id=conversation_id
        )
        conversations.add_turn(
            session,
            conversation=conversation,
            role=role,
            text=text,
            analysis_id=analysis_id,
            data=data,
            examples=examples,
        )


def _save(user_id: int, conversation_id: int) -> tuple[int, int]:
    with session_scope() as session:
        return conversations.save_to_gallery(
            session, user_id=user_id, conversation_id=conversation_id
        )


def _history(user_id: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [
            {
                "id": c.id,
                "title": c.title or "Untitled",
                "when": c.updated_at.strftime("%d %b, %H:%M"),
            }
            for c in conversations.recent(session, user_id=user_id)
        ]


def _load(user_id: int, conversation_id: int) -> dict[str, Any]:
    storage = get_storage()
    with session_scope() as session:
        conversation = conversations.owned(
            session, user_id=user_id, conversation_id=conversation_id
        )
        asset = session.get(Asset, conversation.asset_id) if conversation.asset_id else None
        views = conversations.turns(session, conversation=conversation)
        return {
            "asset_id": conversation.asset_id,
            "prompt_id": conversation.prompt_id,
            "image_url": storage.presigned_get_url(asset.thumbnail_key or asset.storage_key)
            if asset
            else "",
            "name": asset.original_filename if asset else "",
            "size": f"{asset.width} × {asset.height}" if asset else "",
            "turns": [vars(v) for v in views],
        }


def assistant_turn(model: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "status": "streaming",
        "model": model,
        "reasoning": "",
        "cards": [],
        "json": "",
        "error": "",
        "changes": [],
        "examples": [],
        "notes": [],
        "text": "",
        "image_url": "",
        "size": "",
    }


class AnalyzerState(SessionState):
    models: list[dict[str, Any]] = []
    model_id: str = LOCAL_MODEL_ID
    model_query: str = ""
    models_more: bool = False
    use_memory: bool = True
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
    _late_report: str = ""  # text that went with a drop before the box reported it

    @rx.var
    def selected_model(self) -> dict[str, Any]:
        return next((m for m in self.models if m["id"] == self.model_id), {})

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
        picker = await run_service(_model_options, self.model_query, self.model_id)
        self.models, self.models_more = picker["models"], picker["more"]
        if not any(m["id"] == self.model_id for m in self.models):
            self.model_id = LOCAL_MODEL_ID
        self.history = await run_service(_history, int(self.user_id))
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
        try:
            info = await run_service(_open_owned, int(self.user_id), int(asset_id), self.model_id)
        except Exception as e:  # someone else's image, or it expired
            return [rx.call_script(drop_query), rx.toast.error(user_message(e))]
        self._start_thread(info)
        self.history = await run_service(_history, int(self.user_id))
        return rx.call_script(drop_query, callback=lambda _done: AnalyzerState.run_request)

    @rx.event
    def set_model(self, model_id: str) -> None:
        if any(m["id"] == model_id for m in self.models):
            self.model_id = model_id

    @rx.event
    async def search_models(self, query: str) -> None:
        self.model_query = str(query)[:100]
        picker = await run_service(_model_options, self.model_query, self.model_id)
        self.models, self.models_more = picker["models"], picker["more"]

    @rx.event
    def set_use_memory(self, value: bool) -> None:
        self.use_memory = bool(value)

    @rx.event
    def set_message(self, value: str):  # type: ignore[no-untyped-def]
        value = value[:2000]
        late, self._late_report = self._late_report, ""
        if late and value == late:
            # The box reporting, after the drop, text that already went with the image as its
            # instructions: empty it, as a drop does. (The box takes a new value from the state
            # only when it changes, hence the two steps.)
            self.message = value
            yield
            self.message = ""
            return
        self.message = value

    @rx.event
    def new_chat(self) -> None:
        self.turns, self.conversation_id, self.saved_prompt_id = [], 0, 0
        self._current, self._asset_id, self.upload_error, self.message = {}, 0, "", ""

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile], typed: str | None = None):  # type: ignore[no-untyped-def]
        """`typed` is the message box's text as the drop happened, read in the same browser
        event: the box reports typing to `message` only after a pause, and over the socket
        while the upload goes over HTTP, so `message` may not have it yet."""
        unreported = ""
        if typed is not None:
            typed = str(typed)[:2000]
            unreported = typed if typed != self.message else ""
            self.message = typed
        await self._refresh()
        if not self.user_id:
            yield rx.toast.error("Sign in to analyze images.")
            return
        if self.streaming:
            yield rx.toast.info("Wait for the current answer, or press Stop.")
            return
        if len(files) != 1:
            self.upload_error = "Drop one image at a time."
            return
        file = files[0]
        self.upload_error = ""
        try:
            await rate_limits.acheck("analyze", user=self.user_id, ip=self.router.session.client_ip)
            info = await run_service(
                _ingest, int(self.user_id), file.file, file.filename or "image", self.model_id
            )
        except Exception as e:  # bad files get a clear message and change nothing else
            self.upload_error = f"{file.filename or 'That file'}: {user_message(e)}"
            return
        self._start_thread(info)
        self._late_report = unreported
        self.history = await run_service(_history, int(self.user_id))
        yield AnalyzerState.run_request

    def _start_thread(self, info: dict[str, Any]) -> None:
        # Text typed before the image was dropped is its instructions: read it before new_chat()
        # clears the box.
        instructions = self.message.strip()
        self.new_chat()
        self.conversation_id, self._asset_id = int(info["conversation_id"]), int(info["asset_id"])
        self.turns = [
            {
                **assistant_turn(""),
                "role": "user",
                "status": "done",
                "text": info["name"],
                "image_url": info["image_url"],
                "size": info["size"],
            },
        ]
        self._last_request = {"kind": "describe", "instructions": instructions}

    @rx.event
    def send_message(self, form: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        text = str((form or {}).get("message", self.message)).strip()
        if self.streaming:
            return rx.toast.info("Wait for the current answer, or press Stop.")
        if not self.conversation_id or not self._current:
            return rx.toast.info("Drop an image first; then ask for changes here.")
        if not text:
            return rx.toast.info("Type a change, for example: make it night.")
        self.turns = [
            *self.turns,
            {**assistant_turn(""), "role": "user", "status": "done", "text": text},
        ]
        self._last_request = {"kind": "refine", "instructions": text}
        self.message = ""
        return AnalyzerState.run_request

    @rx.event
    def retry(self):  # type: ignore[no-untyped-def]
        if self.streaming or not self._last_request:
            return None
        if self.turns and self.turns[-1]["role"] == "assistant":
            self.turns = self.turns[:-1]
        return AnalyzerState.run_request

    @rx.event
    def stop(self) -> None:
        self._stop = True

    @rx.event(background=True)
    async def run_request(self):  # type: ignore[no-untyped-def]
        async with self:
            if self.streaming:
                return
            request = dict(self._last_request)
            kind = request.get("kind", "describe")
            user_id, conversation_id = int(self.user_id or 0), self.conversation_id
            model_id, use_memory, asset_id = self.model_id, self.use_memory, self._asset_id
            previous = dict(self._current)
            self.streaming, self._stop = True, False
            self.turns = [*self.turns, assistant_turn(model_id)]
        try:
            image = await run_service(_image_for, user_id, asset_id) if kind == "describe" else None
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
        reasoning, partial, last_push = "", None, 0.0
        final: Update | None = None
        try:
            async for update in updates:
                if update.kind == "reasoning":
                    reasoning += update.text
                elif update.kind == "partial":
                    partial = update.data
                elif update.kind in ("result", "error", "started"):
                    final = update if update.kind != "started" else final
                    if update.kind == "started":
                        async with self:
                            self._patch_turn(examples=[e.title for e in update.examples])
                now = time.monotonic()
                if now - last_push >= PUSH_INTERVAL or update.kind in ("result", "error"):
                    last_push = now
                    async with self:
                        if self._stop:
                            break
                        self._patch_turn(
                            reasoning=reasoning,
                            cards=cards(partial),
                            json=pretty(partial) if partial else "",
                        )
        finally:
            await updates.aclose()
        async with self:
            if final is None:
                self._finish_turn(error="Stopped.", status="stopped")
                return
            if final.kind == "error":
                self._finish_turn(error=final.text)
                return
            data = final.data or {}
            changes = (
                [f"{c.op} {c.path}: {c.old or '∅'} → {c.new or '∅'}" for c in diff(previous, data)]
                if kind == "refine"
                else []
            )
            self._current = data
            self._patch_turn(
                reasoning=reasoning,
                cards=cards(data),
                json=pretty(data),
                changes=changes[:40],
                notes=list(final.notes),
            )
            self._finish_turn()
            analysis_id = final.analysis_id
            examples = [e.prompt_id for e in final.examples]
        await run_service(
            _record_turn,
            user_id,
            conversation_id,
            "assistant",
            reasoning[-5000:],
            analysis_id,
            data,
            examples,
        )

    def _patch_turn(self, **values: Any) -> None:
        if not self.turns:
            return
        self.turns = [*self.turns[:-1], {**self.turns[-1], **values}]

    def _finish_turn(self, *, error: str = "", status: str = "") -> None:
        self._patch_turn(status=status or ("error" if error else "done"), error=error)
        self.streaming = False

    @rx.event
    async def save(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id or not self.conversation_id:
            return rx.toast.info("Analyze an image first.")
        try:
            prompt_id, version = await run_service(_save, int(self.user_id), self.conversation_id)
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        self.saved_prompt_id = prompt_id
        self.history = await run_service(_history, int(self.user_id))
        return rx.toast.success(f"Saved to the gallery (version {version}).")

    @rx.event
    def copy_json(self):  # type: ignore[no-untyped-def]
        if not self._current:
            return rx.toast.info("Nothing to copy yet.")
        return [
            rx.set_clipboard(json.dumps(self._current, indent=2, ensure_ascii=False)),
            rx.toast.success("JSON copied."),
        ]

    @rx.event
    async def open_conversation(self, conversation_id: int):  # type: ignore[no-untyped-def]
        await self._refresh()
        if self.streaming or not self.user_id:
            return None
        try:
            loaded = await run_service(_load, int(self.user_id), int(conversation_id))
        except Exception as e:  # someone else's or a deleted conversation
            return rx.toast.error(user_message(e))
        self.new_chat()
        self.conversation_id, self._asset_id = int(conversation_id), int(loaded["asset_id"] or 0)
        self.saved_prompt_id = int(loaded["prompt_id"] or 0)
        turns: list[dict[str, Any]] = []
        for i, view in enumerate(loaded["turns"]):
            if view["role"] == "user":
                first = i == 0
                turns.append(
                    {
                        **assistant_turn(""),
                        "role": "user",
                        "status": "done",
                        "text": view["text"],
                        "image_url": loaded["image_url"] if first else "",
                        "size": loaded["size"] if first else "",
                    }
                )
            else:
                turns.append(
                    {
                        **assistant_turn(view["model"]),
                        "status": "done" if view["data"] else "error",
                        "reasoning": view["text"],
                        "cards": cards(view["data"]),
                        "json": pretty(view["data"]),
                    }
                )
                if view["data"]:
                    self._current = view["data"]
        self.turns = turns
        self._last_request = {"kind": "refine", "instructions": ""}
        return None

"""What a person does in the analyzer thread: drop an image, type a change, retry, stop, copy."""

from __future__ import annotations

import json

import reflex as rx

from app.services.analyzer import chat
from app.services.core import rate_limits
from app.state.analyzer import AnalyzerState
from app.state.analyzer_import import AnalyzerImportState
from app.state.analyzer_models import AnalyzerModelsState
from app.state.analyzer_turns import user_turn
from app.state.base import run_service, user_message


class AnalyzerChatState(AnalyzerState):
    _late_report: str = ""  # text that went with a drop before the box reported it

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
        model = (await self.get_state(AnalyzerModelsState)).model_id
        try:
            await rate_limits.acheck("analyze", user=self.user_id, ip=self.router.session.client_ip)
            started = await run_service(
                chat.start_from_upload,
                user_id=int(self.user_id),
                stream=file.file,
                filename=file.filename or "image",
                model=model,
            )
        except Exception as e:  # bad files get a clear message and change nothing else
            self.upload_error = f"{file.filename or 'That file'}: {user_message(e)}"
            return
        self._start_thread(started)
        self._late_report = unreported
        await self._reload_history()
        importer = await self.get_state(AnalyzerImportState)
        if await importer.found_details(started.asset_id):
            return  # a JSONCraft image: the person chooses to restore its prompt or analyse it
        yield AnalyzerState.run_request

    @rx.event
    def send_message(self, form: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        text = str((form or {}).get("message", self.message)).strip()
        if self.streaming:
            return rx.toast.info("Wait for the current answer, or press Stop.")
        if not self.conversation_id or not self._current:
            return rx.toast.info("Drop an image first; then ask for changes here.")
        if not text:
            return rx.toast.info("Type a change, for example: make it night.")
        self.turns = [*self.turns, user_turn(text)]
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

    @rx.event
    def copy_json(self):  # type: ignore[no-untyped-def]
        if not self._current:
            return rx.toast.info("Nothing to copy yet.")
        return [
            rx.set_clipboard(json.dumps(self._current, indent=2, ensure_ascii=False)),
            rx.toast.success("JSON copied."),
        ]

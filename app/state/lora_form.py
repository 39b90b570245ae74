"""`/loras`' training form: photos (or a zip) with upload progress, trigger word, steps,
subject or style, the price shown before it runs, and Train."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.generation import lora_training
from app.services.generation.lora_photos import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    MAX_TOTAL_BYTES,
    check_count,
)
from app.state.base import as_signed_in, run_service, user_message
from app.state.loras import LorasState, lora_row

UPLOAD_ID = "lora-photos"


def _price(token: str) -> int:
    return as_signed_in(token, lambda s, u: lora_training.quote_training(s, user=u).credits)


def _start(token: str, files: list[tuple[str, bytes]], form: dict[str, Any]) -> dict[str, Any]:
    def start(session: Any, user: Any) -> dict[str, Any]:
        view = lora_training.start_training(session, user=user, files=files, **form)
        return lora_row(session, view)

    return as_signed_in(token, start)


class LoraFormState(LorasState):
    trigger_word: str = ""
    steps: str = str(lora_training.DEFAULT_STEPS)
    kind: str = "subject"
    price: int = 0
    progress: int = 0  # the upload's percent while it runs
    uploading: bool = False
    form_error: str = ""

    @rx.var
    def affordable(self) -> bool:
        return self.credits >= self.price

    @rx.event
    async def load_form(self) -> None:
        await self._refresh()
        if self.user_id:
            self.price = await run_service(_price, self.token)

    @rx.event
    def set_trigger_word(self, value: str) -> None:
        self.trigger_word = value

    @rx.event
    def set_steps(self, value: str) -> None:
        self.steps = value

    @rx.event
    def set_kind(self, value: str) -> None:
        self.kind = value

    @rx.event
    def track_upload(self, progress: dict[str, Any]) -> None:
        fraction = float(progress.get("progress", 0) or 0)
        self.uploading = fraction < 1
        self.progress = round(fraction * 100)

    @rx.event
    def expect_training(self):  # type: ignore[no-untyped-def]
        """Before the upload: follow the list until the training it makes has finished.
        (Started here, not from the upload's handler, whose response would stay open.)"""
        self.form_error = ""
        self._expecting = True
        return LorasState.poll_loras

    @rx.event
    async def train(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        self.uploading, self.form_error = False, ""
        steps = self.steps.strip()
        form = {
            "trigger_word": self.trigger_word,
            "steps": int(steps) if steps.isdigit() and len(steps) < 7 else steps,
            "kind": self.kind,
        }
        try:
            if len(files) > MAX_PHOTOS:
                check_count(len(files), source=None)  # refused before reading fifty photos
            # One byte past the limit is enough to refuse a file, naming it; one file may be a zip.
            cap = (MAX_TOTAL_BYTES if len(files) == 1 else MAX_PHOTO_BYTES) + 1
            photos = [(f.filename or "photo", await f.read(cap)) for f in files]
            row = await run_service(_start, self.token, photos, form)
        except Exception as e:  # bad photos or settings, no credits, no Fal key
            self.form_error = user_message(e)
            return None
        finally:
            self._expecting = False
        await self._refresh()
        self._changes += 1
        self.loras = [row, *[r for r in self.loras if r["id"] != row["id"]]]
        self.trigger_word = ""
        return [
            rx.clear_selected_files(UPLOAD_ID),
            rx.toast.success(f"Training {row['name']}: it takes a few minutes."),
        ]

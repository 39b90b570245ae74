"""`/generate` choices: model, aspect, style preset (diff first), count, seed, steps, guidance.

Each handler keeps what was typed, even when it is wrong, and recomputes the preview and the
price; the message for a wrong value sits beside its control (GenerateState.errors).
"""

from __future__ import annotations

import reflex as rx

from app.services.core.errors import UserFacingError
from app.state.generate import GenerateState
from app.state.generate_inputs import MAX_FIELD, aspect_text, change_line, preset_changes

MAX_CHANGES = 40


class GenerateChoicesState(GenerateState):
    pending_preset: str = ""
    preset_changes: list[str] = []

    @rx.event
    async def set_model(self, model_id: str) -> None:
        chosen = next((m for m in self.models if m["id"] == model_id), None)
        if chosen is None or not chosen["available"]:
            return  # the picker disables them; a forged event changes nothing
        self.model_id = model_id
        await self._update_preview()

    @rx.event
    async def set_aspect(self, aspect: str) -> None:
        self.aspect = aspect[:MAX_FIELD]
        await self._update_preview()

    @rx.event
    async def set_custom_aspect(self, text: str) -> None:
        self.custom_aspect = text[:MAX_FIELD]
        await self._update_preview()

    @rx.event
    async def set_count(self, n: str | list[str]) -> None:
        self.n = (n if isinstance(n, str) else "".join(n[:1]))[:MAX_FIELD]
        await self._update_preview()

    @rx.event
    async def set_seed_mode(self, mode: str) -> None:
        self.seed_mode = "fixed" if mode == "fixed" else "random"
        await self._update_preview()

    @rx.event
    async def set_seed(self, text: str) -> None:
        self.seed = text[:MAX_FIELD]
        await self._update_preview()

    @rx.event
    async def set_steps(self, text: str) -> None:
        self.steps = text[:MAX_FIELD]
        await self._update_preview()

    @rx.event
    async def set_guidance(self, text: str) -> None:
        self.guidance = text[:MAX_FIELD]
        await self._update_preview()

    @rx.event
    def choose_preset(self, preset: str) -> None:
        """Show what the preset would change; nothing applies until "Apply preset"."""
        self.pending_preset, errors = preset, dict(self.errors)
        errors.pop("preset", None)
        if not self.has_source or self._data is None:
            self.errors = {**errors, "preset": "Pick a prompt first: a preset changes its JSON."}
            self.preset_changes = []
            return
        try:
            changes = preset_changes(self._data, preset, aspect=aspect_text(self._choices()))
        except UserFacingError as e:  # an unknown preset, a bad ratio, a prompt it would break
            self.errors, self.preset_changes = {**errors, "preset": e.message}, []
            return
        self.errors = errors
        self.preset_changes = [change_line(c) for c in changes[:MAX_CHANGES]] or [
            "No changes: the prompt already matches this preset."
        ]

    @rx.event
    async def apply_preset(self) -> None:
        if self.pending_preset:
            self.preset = self.pending_preset
        self.pending_preset, self.preset_changes = "", []
        await self._update_preview()

    @rx.event
    async def cancel_preset(self) -> None:
        self.pending_preset, self.preset_changes = "", []
        await self._update_preview()

    @rx.event
    async def remove_preset(self) -> None:
        self.preset = ""
        await self._update_preview()

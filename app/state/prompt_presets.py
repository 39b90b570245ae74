"""The prompt page's presets: apply one after a diff preview, or save part of this prompt as one."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.library.tools import get_preset, list_presets, preview_preset, save_preset
from app.state.base import as_signed_in, run_service, user_message
from app.state.editor import EditorState
from app.state.session import SessionState

PRESET_FIELDS = {
    "style": ("style",),
    "lighting": ("lighting",),
    "camera": ("camera",),
    "mood": ("mood",),
    "composition": ("composition",),
}


def _presets(token: str) -> list[dict[str, str]]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        return [
            {"id": p.id, "label": f"{p.category}: {p.name}"}
            for p in list_presets(session, user_id=viewer.id if viewer else None)
        ]


class PromptPresetsState(SessionState):
    presets: list[dict[str, str]] = []
    preset_id: str = ""
    preset_changes: list[str] = []
    _preset_merged: dict[str, Any] = {}

    async def _load_presets(self) -> None:
        """Called on page load (PromptToolsState.load_tools): the list, and no preview open."""
        self.presets = await run_service(_presets, self.token)
        self.preset_changes = []

    @rx.event
    async def save_as_preset(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        name, category = str(form.get("name", "")).strip(), str(form.get("category", "style"))
        keys = PRESET_FIELDS.get(category, ())
        current = (await self.get_state(EditorState))._data
        data = {k: current[k] for k in keys if k in current}
        if not data:
            return rx.toast.error(f"This prompt has no {category} to save.")
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, v: save_preset(s, user_id=v.id, name=name, category=category, data=data),
            )
        except Exception as e:  # bad names and invalid parts come back as messages
            return rx.toast.error(user_message(e))
        self.presets = await run_service(_presets, self.token)
        return rx.toast.success(f"Saved preset “{name}”.")

    @rx.event
    async def choose_preset(self, preset_id: str):  # type: ignore[no-untyped-def]
        self.preset_id = preset_id
        current = (await self.get_state(EditorState))._data
        try:
            preset = await run_service(
                as_signed_in,
                self.token,
                lambda s, v: get_preset(s, user_id=v.id, preset_id=preset_id),
            )
            merged, changes = preview_preset(current, preset)
        except Exception as e:  # a preset that would break the prompt is refused
            self.preset_changes = []
            return rx.toast.error(user_message(e))
        self._preset_merged = merged
        self.preset_changes = [
            f"{c.op} {c.path}: {c.old or '∅'} → {c.new or '∅'}" for c in changes
        ] or ["No changes: the prompt already matches this preset."]
        return None

    @rx.event
    async def accept_preset(self) -> None:
        doc = await self.get_state(EditorState)
        if doc.can_edit and self._preset_merged:
            doc._set_data(self._preset_merged)
        self.preset_changes, self._preset_merged, self.preset_id = [], {}, ""

    @rx.event
    def cancel_preset(self) -> None:
        self.preset_changes, self._preset_merged, self.preset_id = [], {}, ""

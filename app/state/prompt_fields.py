"""The prompt page's edits: guided-form fields, list items, raw JSON and lint fixes.

Each handler changes the document held by EditorState (fetched with `get_state`), which
re-validates and re-lints on every change; nothing is saved until the person presses Save.
"""

from __future__ import annotations

import json

import reflex as rx

from app.services.library.tools import apply_fix
from app.state import prompt_form as pf
from app.state.base import user_message
from app.state.editor import EditorState
from app.state.session import SessionState


class PromptFieldsState(SessionState):
    async def _editable(self) -> EditorState | None:
        """The document, when this person may change it."""
        doc = await self.get_state(EditorState)
        return doc if doc.can_edit else None

    @rx.event
    async def set_value(self, path: str, value: str) -> None:
        if doc := await self._editable():
            doc._set_data(pf.set_value(doc._data, path, str(value)[:5000]))

    @rx.event
    async def set_item(self, key: str, index: int, name: str, value: str) -> None:
        if doc := await self._editable():
            doc._set_data(pf.set_item(doc._data, key, int(index), name, str(value)[:5000]))

    @rx.event
    async def add_item(self, key: str) -> None:
        if doc := await self._editable():
            doc._set_data(pf.add_item(doc._data, key))

    @rx.event
    async def remove_item(self, key: str, index: int) -> None:
        if doc := await self._editable():
            doc._set_data(pf.remove_item(doc._data, key, int(index)))

    @rx.event
    async def move_item(self, key: str, index: int, delta: int) -> None:
        if doc := await self._editable():
            doc._set_data(pf.move_item(doc._data, key, int(index), int(delta)))

    @rx.event
    async def set_raw(self, text: str) -> None:
        """Raw mode: keep the text as typed; apply it to the form only when it parses."""
        doc = await self.get_state(EditorState)
        doc.raw_text = text[:200_000]
        try:
            parsed = json.loads(doc.raw_text)
        except json.JSONDecodeError as e:
            doc.raw_error = f"Not valid JSON yet: {e.msg} (line {e.lineno}, column {e.colno})."
            return
        if not isinstance(parsed, dict):
            doc.raw_error = "The prompt must be a JSON object: { ... }."
            return
        raw = doc.raw_text
        doc._set_data(parsed)
        doc.raw_text = raw  # don't reformat under the cursor

    @rx.event
    async def format_raw(self) -> None:
        doc = await self.get_state(EditorState)
        if not doc.raw_error:
            doc._set_data(doc._data, dirty=doc.dirty)

    @rx.event
    async def fix_issue(self, fix_id: str):  # type: ignore[no-untyped-def]
        doc = await self._editable()
        if doc is None or not fix_id:
            return None
        try:
            doc._set_data(apply_fix(doc._data, fix_id))
        except Exception as e:  # a stale fix id: say so, keep the data
            return rx.toast.error(user_message(e))
        return rx.toast.success("Fixed.")

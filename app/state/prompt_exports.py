"""The prompt page's exports: canonical JSON, FLUX.2 JSON, prose and API snippets to copy,
and the JSON file to download. Built from the document as it is now, saved or not."""

from __future__ import annotations

import json

import reflex as rx

from app.services.library.tools import (
    snippet_curl,
    snippet_python,
    to_canonical_json,
    to_flux2_json,
    to_prose,
)
from app.state.editor import EditorState
from app.state.session import SessionState


class PromptExportsState(SessionState):
    export_title: str = ""
    export_text: str = ""

    @rx.event
    async def show_export(self, kind: str) -> None:
        data = (await self.get_state(EditorState))._data
        exports = {
            "json": ("Canonical JSON", lambda: to_canonical_json(data)),
            "flux2": (
                "FLUX.2 JSON prompt",
                lambda: json.dumps(to_flux2_json(data), indent=2, ensure_ascii=False),
            ),
            "prose": ("Plain prose", lambda: to_prose(data)),
            "curl": ("cURL (Together AI)", lambda: snippet_curl(data)),
            "python": ("Python (Together AI)", lambda: snippet_python(data)),
        }
        title, make = exports.get(kind, exports["json"])
        self.export_title, self.export_text = title, make()

    @rx.event
    def copy_export(self):  # type: ignore[no-untyped-def]
        return [rx.set_clipboard(self.export_text), rx.toast.success("Copied.")]

    @rx.event
    async def download_json(self):  # type: ignore[no-untyped-def]
        doc = await self.get_state(EditorState)
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in doc.title)[:60] or "prompt"
        return rx.download(data=to_canonical_json(doc._data), filename=f"{safe}.json")

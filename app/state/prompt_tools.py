"""Prompt page tools: lint fixes, presets with a diff preview, versions and diffs, exports,
and the owner's decisions (favourite, rating, visibility, share link, tags, duplicate)."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from app import routes
from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.library import gallery, prompt_ops
from app.services.library.diff import diff
from app.services.library.tools import (
    apply_fix,
    get_preset,
    list_presets,
    preview_preset,
    save_preset,
    snippet_curl,
    snippet_python,
    to_canonical_json,
    to_flux2_json,
    to_prose,
)
from app.state.base import as_signed_in, run_service, user_message
from app.state.editor import STILL_LOADING, EditorState


def _presets(token: str) -> list[dict[str, str]]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        return [
            {"id": p.id, "label": f"{p.category}: {p.name}"}
            for p in list_presets(session, user_id=viewer.id if viewer else None)
        ]


def _similar(token: str, prompt_id: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        cards = gallery.similar_to(
            session, prompt_id=prompt_id, viewer=viewer, storage=get_storage(), k=4
        )
        return [{"id": c.id, "title": c.title, "thumbnail_url": c.thumbnail_url} for c in cards]


PRESET_FIELDS = {
    "style": ("style",),
    "lighting": ("lighting",),
    "camera": ("camera",),
    "mood": ("mood",),
    "composition": ("composition",),
}


def _version_data(token: str, prompt_id: int, number: int) -> dict[str, Any]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        return prompt_ops.get_version(
            session, prompt_id=prompt_id, viewer=viewer, number=number
        ).data


class PromptToolsState(EditorState):
    presets: list[dict[str, str]] = []
    preset_id: str = ""
    preset_changes: list[str] = []
    diff_a: str = ""
    diff_b: str = ""
    diff_rows: list[dict[str, str]] = []
    side_a: str = ""
    side_b: str = ""
    export_title: str = ""
    export_text: str = ""
    similar: list[dict[str, Any]] = []
    _preset_merged: dict[str, Any] = {}

    @rx.event
    async def load_tools(self) -> None:
        self.presets = await run_service(_presets, self.token)
        self.diff_rows, self.export_text, self.preset_changes = [], "", []
        try:
            self.similar = await run_service(_similar, self.token, self.pid) if self.pid else []
        except Exception:  # similar prompts are a nicety: the page works without them
            self.similar = []

    @rx.event
    async def save_as_preset(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        name, category = str(form.get("name", "")).strip(), str(form.get("category", "style"))
        keys = PRESET_FIELDS.get(category, ())
        data = {k: self._data[k] for k in keys if k in self._data}
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
    def fix_issue(self, fix_id: str):  # type: ignore[no-untyped-def]
        if not self.can_edit or not fix_id:
            return None
        try:
            self._set_data(apply_fix(self._data, fix_id))
        except Exception as e:  # a stale fix id: say so, keep the data
            return rx.toast.error(user_message(e))
        return rx.toast.success("Fixed.")

    @rx.event
    async def choose_preset(self, preset_id: str):  # type: ignore[no-untyped-def]
        self.preset_id = preset_id
        try:
            preset = await run_service(
                as_signed_in,
                self.token,
                lambda s, v: get_preset(s, user_id=v.id, preset_id=preset_id),
            )
            merged, changes = preview_preset(self._data, preset)
        except Exception as e:  # a preset that would break the prompt is refused
            self.preset_changes = []
            return rx.toast.error(user_message(e))
        self._preset_merged = merged
        self.preset_changes = [
            f"{c.op} {c.path}: {c.old or '∅'} → {c.new or '∅'}" for c in changes
        ] or ["No changes: the prompt already matches this preset."]
        return None

    @rx.event
    def accept_preset(self) -> None:
        if self.can_edit and self._preset_merged:
            self._set_data(self._preset_merged)
        self.preset_changes, self._preset_merged, self.preset_id = [], {}, ""

    @rx.event
    def cancel_preset(self) -> None:
        self.preset_changes, self._preset_merged, self.preset_id = [], {}, ""

    @rx.event
    def set_diff_a(self, value: str) -> None:
        self.diff_a = value

    @rx.event
    def set_diff_b(self, value: str) -> None:
        self.diff_b = value

    @rx.event
    async def compare(self):  # type: ignore[no-untyped-def]
        if not self.diff_a or not self.diff_b:
            return rx.toast.info("Pick two versions to compare.")
        try:
            a = await run_service(_version_data, self.token, self.pid, int(self.diff_a))
            b = await run_service(_version_data, self.token, self.pid, int(self.diff_b))
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        self.diff_rows = [
            {"path": c.path, "op": c.op, "old": c.old, "new": c.new} for c in diff(a, b)
        ]
        self.side_a, self.side_b = json.dumps(a, indent=2), json.dumps(b, indent=2)
        return None

    @rx.event
    async def revert_to(self, number: int):  # type: ignore[no-untyped-def]
        if not self._showing_route():
            return rx.toast.info(STILL_LOADING)
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, v: prompt_ops.revert(
                    s,
                    prompt_id=self.pid,
                    viewer=v,
                    version_number=int(number),
                    base_version=self.version,
                ),
            )
        except Exception as e:  # conflicts and permissions come back as messages
            return rx.toast.error(user_message(e))
        await self.load_prompt()
        return rx.toast.success(f"Reverted to version {number} (saved as a new version).")

    @rx.event
    def show_export(self, kind: str) -> None:
        data = self._data
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
    def download_json(self):  # type: ignore[no-untyped-def]
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.title)[:60] or "prompt"
        return rx.download(data=to_canonical_json(self._data), filename=f"{safe}.json")

    async def _manage(self, fn: Any, done: str):  # type: ignore[no-untyped-def]
        if not self._showing_route():
            return rx.toast.info(STILL_LOADING)
        try:
            await run_service(as_signed_in, self.token, fn)
        except Exception as e:  # permissions and bad input come back as messages
            return rx.toast.error(user_message(e))
        await self.load_prompt()
        return rx.toast.success(done)

    @rx.event
    async def toggle_favorite(self):  # type: ignore[no-untyped-def]
        fav = not self.favorite
        return await self._manage(
            lambda s, v: prompt_ops.set_favorite(s, prompt_id=self.pid, viewer=v, favorite=fav),
            "Added to favourites." if fav else "Removed from favourites.",
        )

    @rx.event
    async def rate(self, stars: int):  # type: ignore[no-untyped-def]
        value = None if int(stars) == self.rating else int(stars)
        return await self._manage(
            lambda s, v: prompt_ops.set_rating(s, prompt_id=self.pid, viewer=v, rating=value),
            "Rating saved.",
        )

    @rx.event
    async def set_visibility(self, value: str):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v: prompt_ops.set_visibility(
                s, prompt_id=self.pid, viewer=v, visibility=value
            ),
            f"The prompt is now {value}.",
        )

    @rx.event
    async def share(self):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v: prompt_ops.create_share_link(s, prompt_id=self.pid, viewer=v),
            "Share link ready.",
        )

    @rx.event
    async def unshare(self):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v: prompt_ops.revoke_share_link(s, prompt_id=self.pid, viewer=v),
            "Share link revoked.",
        )

    @rx.event
    async def add_tag(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        tag = str(form.get("tag", "")).strip()
        if not tag:
            return None
        return await self._manage(
            lambda s, v: prompt_ops.bulk_tag(s, prompt_ids=[self.pid], viewer=v, add=[tag]),
            f"Tagged “{tag}”.",
        )

    @rx.event
    async def remove_tag(self, tag: str):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v: prompt_ops.bulk_tag(s, prompt_ids=[self.pid], viewer=v, remove=[tag]),
            "Tag removed.",
        )

    @rx.event
    async def duplicate(self):  # type: ignore[no-untyped-def]
        if not self._showing_route():  # a click while moving to another prompt: copy neither
            return rx.toast.info(STILL_LOADING)
        try:
            copy_id = await run_service(
                as_signed_in,
                self.token,
                lambda s, v: prompt_ops.duplicate(s, prompt_id=self.pid, viewer=v).id,
            )
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return [
            rx.redirect(routes.prompt_url(copy_id)),
            rx.toast.success("Duplicated: this is your copy."),
        ]

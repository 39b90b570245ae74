"""`/prompts/[prompt_id]`: the prompt page's document — loading it, saving versions, conflicts.

Edits live in a backend-only dict; inputs get flattened string values. Every change validates
against the schema, and saving sends the version it started from, so a concurrent save by
someone else becomes a conflict with a diff instead of an overwrite.

The page's other parts live in their own states and reach this one with `get_state`:
field edits (prompt_fields.py), favourite/rating/sharing/tags (prompt_meta.py), history and
diffs (prompt_versions.py), exports (prompt_exports.py), presets (prompt_presets.py) and the
on-load extras (prompt_tools.py).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.errors import VersionConflictError
from app.services.core.storage import get_storage
from app.services.library import prompt_ops
from app.services.library.diff import diff
from app.services.library.prompts import validate_prompt
from app.services.library.tools import format_json, lint
from app.state import prompt_form as pf
from app.state.base import run_service, user_message
from app.state.prompt_view import cards
from app.state.session import SessionState


def _detail(token: str, prompt_id: int) -> dict[str, Any]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        d = prompt_ops.get_prompt_detail(
            session, prompt_id=prompt_id, viewer=viewer, storage=get_storage()
        )
        origin = d.origin
        return {
            "title": d.prompt.title,
            "data": d.data,
            "version": d.current_version,
            "versions": [
                {
                    "number": v.number,
                    "message": v.message or "—",
                    "author": v.author,
                    "when": v.created_at.strftime("%d %b %Y %H:%M"),
                    "current": v.is_current,
                }
                for v in d.versions
            ],
            "tags": d.tags,
            "image_url": d.image_url or d.thumbnail_url,
            "download_url": d.download_url,
            "can_edit": d.can_edit,
            "can_manage": d.can_manage,
            "visibility": d.prompt.visibility,
            "favorite": d.prompt.is_favorite,
            "rating": d.prompt.rating or 0,
            "share": d.prompt.share_token or "",
            "model": d.prompt.model or (origin.model if origin else ""),
            "reasoning": "\n\n".join(a.reasoning for a in d.analyses if a.reasoning),
            "analyses": [f"{a.kind} · {a.model} · {a.status}" for a in d.analyses],
        }


def _save(token: str, prompt_id: int, data: dict[str, Any], message: str, base: int) -> int:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        if viewer is None:
            from app.services.core.errors import AuthenticationError

            raise AuthenticationError("Your session ended: sign in again to save.")
        version = prompt_ops.save_version(
            session,
            prompt_id=prompt_id,
            data=data,
            author=viewer,
            message=message,
            base_version=base,
        )
        return version.number


STILL_LOADING = "The prompt is still loading: try again in a moment."


class EditorState(SessionState):
    pid: int = 0
    title: str = ""
    version: int = 0
    versions: list[dict[str, Any]] = []
    tags: list[str] = []
    image_url: str = ""
    download_url: str = ""
    can_edit: bool = False
    can_manage: bool = False
    visibility: str = "private"
    favorite: bool = False
    rating: int = 0
    share_token: str = ""
    model: str = ""
    reasoning: str = ""
    values: dict[str, str] = {}
    lists: dict[str, list[dict[str, str]]] = {}
    errors: dict[str, str] = {}
    issues: list[dict[str, Any]] = []
    preview: list[dict[str, Any]] = []
    raw_text: str = ""
    raw_error: str = ""
    dirty: bool = False
    message: str = ""
    conflict: list[str] = []
    conflict_version: int = 0
    not_found: str = ""
    # The route's prompt id whose load finished (shown, or not found). Moving to another prompt
    # keeps the previous one in state until the new one loads: the page shows a placeholder
    # while this differs from the address, and actions refuse to run (see _showing_route).
    loaded_route: str = ""
    _data: dict[str, Any] = {}
    _theirs: dict[str, Any] = {}

    @rx.var
    def error_count(self) -> int:
        return len(self.errors)

    def _set_data(self, data: dict[str, Any], *, dirty: bool = True) -> None:
        self._data = data
        self.values, self.lists = pf.flatten(data)
        self.errors = pf.error_map(validate_prompt(data))
        self.issues = [
            {
                "code": i.code,
                "path": i.path or "(prompt)",
                "message": i.message,
                "severity": i.severity,
                "fix": i.fix_id or "",
            }
            for i in lint(data)
        ]
        self.preview = cards(data)
        self.raw_text, self.raw_error = format_json(data), ""
        self.dirty = dirty

    def _route_id(self) -> str:
        return str(self.router.page.params.get("prompt_id", ""))

    def _showing_route(self) -> bool:
        """True when the prompt in state is the one at the address the event came from."""
        return bool(self.pid) and not self.not_found and self.loaded_route == self._route_id()

    @rx.event
    async def load_prompt(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        route = self._route_id()
        try:
            pid = int(route)
            loaded = await run_service(_detail, self.token, pid)
        except ValueError:
            self.pid, self.not_found, self.loaded_route = 0, "That prompt doesn't exist.", route
            return
        except Exception as e:  # not found / not allowed: one message, nothing leaks
            self.pid, self.not_found, self.loaded_route = 0, user_message(e), route
            return
        self.pid, self.not_found, self.loaded_route = pid, "", route
        self.title, self.version, self.versions = (
            loaded["title"],
            loaded["version"],
            loaded["versions"],
        )
        self.tags, self.image_url = loaded["tags"], loaded["image_url"]
        self.download_url = loaded["download_url"]
        self.can_edit, self.can_manage = loaded["can_edit"], loaded["can_manage"]
        self.visibility, self.favorite, self.rating = (
            loaded["visibility"],
            loaded["favorite"],
            loaded["rating"],
        )
        self.share_token, self.model, self.reasoning = (
            loaded["share"],
            loaded["model"],
            loaded["reasoning"],
        )
        self.conflict, self.message = [], ""
        self._set_data(loaded["data"], dirty=False)

    @rx.event
    def set_message(self, value: str) -> None:
        self.message = value[:500]

    @rx.event
    async def save(self):  # type: ignore[no-untyped-def]
        if not self._showing_route():
            return rx.toast.info(STILL_LOADING)
        if not self.can_edit:
            return rx.toast.error("You can't edit this prompt.")
        if self.raw_error:
            return rx.toast.error("Fix the JSON first: " + self.raw_error)
        if self.errors:
            return rx.toast.error(f"Fix the {len(self.errors)} highlighted field(s) before saving.")
        try:
            number = await run_service(
                _save, self.token, self.pid, self._data, self.message, self.version
            )
        except VersionConflictError as e:
            self._theirs, self.conflict_version = e.current_data, e.current_version
            self.conflict = [
                f"{c.op} {c.path}: {c.old or '∅'} → {c.new or '∅'}"
                for c in diff(e.current_data, self._data)
            ]
            return rx.toast.warning(e.message)
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        self.message, self.conflict = "", []
        await self.load_prompt()
        return rx.toast.success(f"Saved version {number}.")

    @rx.event
    def take_theirs(self) -> None:
        """Drop my edits and continue from the version someone else saved."""
        self.version, self.conflict = self.conflict_version, []
        self._set_data(self._theirs, dirty=False)

    @rx.event
    async def keep_mine(self):  # type: ignore[no-untyped-def]
        """Save my edits on top of theirs (they stay in history as the version before)."""
        self.version, self.conflict = self.conflict_version, []
        return await self.save()

"""The prompt page's history: compare any two versions, revert to one (saved as a new version)."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.library import prompt_ops
from app.services.library.diff import diff
from app.state.base import as_signed_in, run_service, user_message
from app.state.editor import STILL_LOADING, EditorState
from app.state.session import SessionState


def _version_data(token: str, prompt_id: int, number: int) -> dict[str, Any]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        return prompt_ops.get_version(
            session, prompt_id=prompt_id, viewer=viewer, number=number
        ).data


class PromptVersionsState(SessionState):
    diff_a: str = ""
    diff_b: str = ""
    diff_rows: list[dict[str, str]] = []
    side_a: str = ""
    side_b: str = ""

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
        pid = (await self.get_state(EditorState)).pid
        try:
            a = await run_service(_version_data, self.token, pid, int(self.diff_a))
            b = await run_service(_version_data, self.token, pid, int(self.diff_b))
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        self.diff_rows = [
            {"path": c.path, "op": c.op, "old": c.old, "new": c.new} for c in diff(a, b)
        ]
        self.side_a, self.side_b = json.dumps(a, indent=2), json.dumps(b, indent=2)
        return None

    @rx.event
    async def revert_to(self, number: int):  # type: ignore[no-untyped-def]
        doc = await self.get_state(EditorState)
        if not doc._showing_route():
            return rx.toast.info(STILL_LOADING)
        pid, base = doc.pid, doc.version
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, v: prompt_ops.revert(
                    s, prompt_id=pid, viewer=v, version_number=int(number), base_version=base
                ),
            )
        except Exception as e:  # conflicts and permissions come back as messages
            return rx.toast.error(user_message(e))
        await doc.load_prompt()
        return rx.toast.success(f"Reverted to version {number} (saved as a new version).")

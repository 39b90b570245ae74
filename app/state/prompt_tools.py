"""The prompt page's extras on load: the presets list, similar prompts, and no stale diff,
export or preset preview left over from the previous prompt.

The page's parts: EditorState (the document: load, save, conflicts), PromptFieldsState (edits),
PromptMetaState (favourite, rating, visibility, sharing, tags, duplicate), PromptVersionsState
(history and diffs), PromptExportsState and PromptPresetsState.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.library import gallery
from app.state.base import run_service, user_message
from app.state.editor import EditorState
from app.state.prompt_exports import PromptExportsState
from app.state.prompt_presets import PromptPresetsState
from app.state.prompt_versions import PromptVersionsState
from app.state.session import SessionState

SIMILAR_UNAVAILABLE = "Similar prompts aren't available right now."


def _similar(token: str, prompt_id: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        cards = gallery.similar_to(
            session, prompt_id=prompt_id, viewer=viewer, storage=get_storage(), k=4
        )
        return [{"id": c.id, "title": c.title, "thumbnail_url": c.thumbnail_url} for c in cards]


def similar_or_notice(token: str, prompt_id: int) -> tuple[list[dict[str, Any]], str]:
    """(similar prompts, "") or ([], a notice saying why there are none).

    Similar prompts are a nicety: the page works without them. A failure is still logged with
    its traceback and an id the admin can search for, and the notice shows that id.
    """
    try:
        return _similar(token, prompt_id), ""
    except Exception as e:  # any failure: the rest of the page stays usable
        return [], f"{SIMILAR_UNAVAILABLE} {user_message(e)}"


class PromptToolsState(SessionState):
    similar: list[dict[str, Any]] = []
    similar_notice: str = ""

    @rx.event
    async def load_tools(self) -> None:
        await (await self.get_state(PromptPresetsState))._load_presets()
        (await self.get_state(PromptVersionsState)).diff_rows = []
        (await self.get_state(PromptExportsState)).export_text = ""
        pid = (await self.get_state(EditorState)).pid
        self.similar, self.similar_notice = (
            await run_service(similar_or_notice, self.token, pid) if pid else ([], "")
        )

"""The owner's decisions on the prompt page: favourite, rating, visibility, share link, tags and
duplicate. The services check who may do what; each change reloads the document."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.library import prompt_ops
from app.state.base import as_signed_in, run_service, user_message
from app.state.editor import STILL_LOADING, EditorState
from app.state.session import SessionState


class PromptMetaState(SessionState):
    async def _manage(self, fn: Any, done: str):  # type: ignore[no-untyped-def]
        """Run `fn(session, viewer, prompt_id)` on the prompt shown, then reload it."""
        doc = await self.get_state(EditorState)
        if not doc._showing_route():
            return rx.toast.info(STILL_LOADING)
        pid = doc.pid
        try:
            await run_service(as_signed_in, self.token, lambda s, v: fn(s, v, pid))
        except Exception as e:  # permissions and bad input come back as messages
            return rx.toast.error(user_message(e))
        await doc.load_prompt()
        return rx.toast.success(done)

    @rx.event
    async def toggle_favorite(self):  # type: ignore[no-untyped-def]
        fav = not (await self.get_state(EditorState)).favorite
        return await self._manage(
            lambda s, v, pid: prompt_ops.set_favorite(s, prompt_id=pid, viewer=v, favorite=fav),
            "Added to favourites." if fav else "Removed from favourites.",
        )

    @rx.event
    async def rate(self, stars: int):  # type: ignore[no-untyped-def]
        current = (await self.get_state(EditorState)).rating
        value = None if int(stars) == current else int(stars)
        return await self._manage(
            lambda s, v, pid: prompt_ops.set_rating(s, prompt_id=pid, viewer=v, rating=value),
            "Rating saved.",
        )

    @rx.event
    async def set_visibility(self, value: str):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v, pid: prompt_ops.set_visibility(
                s, prompt_id=pid, viewer=v, visibility=value
            ),
            f"The prompt is now {value}.",
        )

    @rx.event
    async def share(self):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v, pid: prompt_ops.create_share_link(s, prompt_id=pid, viewer=v),
            "Share link ready.",
        )

    @rx.event
    async def unshare(self):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v, pid: prompt_ops.revoke_share_link(s, prompt_id=pid, viewer=v),
            "Share link revoked.",
        )

    @rx.event
    async def add_tag(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        tag = str(form.get("tag", "")).strip()
        if not tag:
            return None
        return await self._manage(
            lambda s, v, pid: prompt_ops.bulk_tag(s, prompt_ids=[pid], viewer=v, add=[tag]),
            f"Tagged “{tag}”.",
        )

    @rx.event
    async def remove_tag(self, tag: str):  # type: ignore[no-untyped-def]
        return await self._manage(
            lambda s, v, pid: prompt_ops.bulk_tag(s, prompt_ids=[pid], viewer=v, remove=[tag]),
            "Tag removed.",
        )

    @rx.event
    async def duplicate(self):  # type: ignore[no-untyped-def]
        doc = await self.get_state(EditorState)
        if not doc._showing_route():  # a click while moving to another prompt: copy neither
            return rx.toast.info(STILL_LOADING)
        pid = doc.pid
        try:
            copy_id = await run_service(
                as_signed_in,
                self.token,
                lambda s, v: prompt_ops.duplicate(s, prompt_id=pid, viewer=v).id,
            )
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return [
            rx.redirect(routes.prompt_url(copy_id)),
            rx.toast.success("Duplicated: this is your copy."),
        ]

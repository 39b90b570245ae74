"""`/loras`: the person's LoRAs with live status, sample photos, cancel and delete.

While any LoRA is queued, uploading or training, one background event asks the service for
the list every few seconds and stops once none is (or the person left the page), like studio
jobs. Trainings take minutes: a tab never polls faster than POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from app import routes
from app.services.core.models import Asset
from app.services.core.storage import get_storage
from app.services.generation import lora_training
from app.services.generation.lora_records import LoraView
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

POLL_SECONDS = 2.0
MAX_POLL_SECONDS = 3 * 3600  # a forgotten tab stops asking after this
ACTIVE = ("queued", "uploading", "training")
STATUS = {
    "queued": ("Queued", "gray"),
    "uploading": ("Sent to Fal", "blue"),
    "training": ("Training", "blue"),
    "done": ("Ready", "green"),
    "failed": ("Failed", "red"),
    "cancelled": ("Cancelled", "gray"),
}


def lora_row(session: Any, view: LoraView) -> dict[str, Any]:
    """What the page shows of a LoRA: small values only."""
    label, color = STATUS.get(view.status, (view.status, "gray"))
    storage = get_storage()
    samples = []
    for asset_id in view.sample_asset_ids:
        asset = session.get(Asset, asset_id)
        if asset is not None:
            samples.append(storage.presigned_get_url(asset.thumbnail_key or asset.storage_key))
    if view.status == "done":
        cost = f"{view.credits_charged} credits"
    elif view.status in ACTIVE:
        cost = f"{view.credits} credits held"
    else:
        cost = "Refunded" if view.credits else "Free"
    return {
        "id": view.id,
        "name": view.name,
        "trigger_word": view.trigger_word,
        "kind": "Style" if view.kind == "style" else "Subject",
        "status": view.status,
        "label": label,
        "color": color,
        "active": view.status in ACTIVE,
        "done": view.status == "done",
        "details": f"{view.image_count} photos · {view.steps} steps · {cost}",
        "created": view.created_at.strftime("%d %b, %H:%M"),
        "error": view.error or "",
        "lora_url": view.lora_url or "",
        "samples": samples,
    }


def _list(token: str) -> list[dict[str, Any]]:
    return as_signed_in(
        token, lambda s, u: [lora_row(s, v) for v in lora_training.list_loras(s, user=u)]
    )


def _remove(token: str, lora_id: int) -> dict[str, Any]:
    return as_signed_in(
        token, lambda s, u: lora_row(s, lora_training.delete_lora(s, user=u, lora_id=lora_id))
    )


class LorasState(SessionState):
    loras: list[dict[str, Any]] = []
    loras_loaded: bool = False
    _poller: int = 0  # one poller per tab: each run takes a number and stops when superseded
    _changes: int = 0  # bumped when a handler changes the list: a poll begun before is stale
    _expecting: bool = False  # a training is being uploaded: keep polling for it

    @rx.var
    def has_active(self) -> bool:
        return any(row["active"] for row in self.loras)

    @rx.event
    async def load_loras(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            return rx.redirect(routes.login_url(routes.LORAS))
        try:
            self.loras = await run_service(_list, self.token)
        except Exception as e:  # the page still works; the list says why it is empty
            self.loras = []
            return rx.toast.error(user_message(e))
        finally:
            self.loras_loaded = True
        return LorasState.poll_loras if self.has_active else None

    @rx.event(background=True)
    async def poll_loras(self):  # type: ignore[no-untyped-def]
        async with self:
            self._poller += 1
            me, token = self._poller, self.token
        for _ in range(int(MAX_POLL_SECONDS / POLL_SECONDS)):
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                here = self.router.url.path.rstrip("/") == routes.LORAS
                waiting = self.has_active or self._expecting
                if not waiting or not here or self._poller != me:
                    return
                seen = self._changes
            try:
                fresh = await run_service(_list, token)
            except Exception as e:  # signed out, or the database is down: stop and say so
                yield rx.toast.error(user_message(e))
                return
            async with self:
                if self._poller != me:
                    return
                if self._changes != seen:
                    continue  # a LoRA was added or changed meanwhile: this answer is stale
                finished = {r["id"] for r in self.loras if r["active"]} - {
                    r["id"] for r in fresh if r["active"]
                }
                self.loras = fresh
                if finished:
                    await self._refresh()  # the balance moved: a charge settled or a refund

    @rx.event
    async def remove(self, lora_id: int):  # type: ignore[no-untyped-def]
        """Cancel a running training, or delete a finished LoRA."""
        try:
            row = await run_service(_remove, self.token, int(lora_id))
        except Exception as e:  # finished meanwhile, or not yours
            return rx.toast.error(user_message(e))
        await self._refresh()
        self._changes += 1
        if row["status"] == "deleted":
            self.loras = [r for r in self.loras if r["id"] != row["id"]]
            return rx.toast.info(f"Deleted {row['name']}.")
        self.loras = [row if r["id"] == row["id"] else r for r in self.loras]
        if row["status"] == "cancelled":
            return rx.toast.info(f"Cancelled {row['name']}; its credits are back.")
        return None

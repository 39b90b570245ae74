"""`/studio` jobs: the list (it survives a reload), live progress, cancel, and where results go.

While any job of this tab is queued, running or cancelling, one background event asks the
service for those jobs about once a second and stops as soon as none is active (or the person
left the page). A tab with no active job never polls.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from app import routes
from app.services.core.units import format_bytes
from app.services.studio import jobs as job_service
from app.services.studio.describe import describe_into_gallery
from app.services.studio.jobs.describe_step import job_tag
from app.settings import get_settings
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 6 * 3600  # a forgotten tab stops asking after this, even mid-job
ITEM_ROWS = 100  # rows shown per job; the zip holds every result
DETAILED_ON_LOAD = 5  # newest jobs whose items a (re)load shows; older ones load on demand
ACTIVE = ("queued", "running", "cancelling")
SENDABLE = ("image/jpeg", "image/png", "image/webp", "image/gif")
STATUS_COLORS = {
    "queued": "gray",
    "running": "blue",
    "cancelling": "amber",
    "done": "green",
    "failed": "red",
    "cancelled": "gray",
}
STATUS_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "cancelling": "Cancelling…",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
STEP_LABELS = {
    "auto_orient": "auto-orient",
    "remove_background": "background removal",
    "ocr": "OCR",
    "encode": "encode",
    "describe": "describe as JSON prompts",
}


def _output_row(job_id: int, position: int, out: job_service.OutputView) -> dict[str, Any]:
    dims = f"{out.width} × {out.height}" if out.width and out.height else ""
    return {
        "job_id": job_id,
        "position": position,
        "name": out.name,
        "url": out.url,
        "is_image": out.media_type.startswith("image/"),
        # What the analyzer (and so the gallery) can take; AVIF and TIFF results cannot.
        "sendable": out.media_type in SENDABLE,
        "detail": " · ".join(p for p in (dims, format_bytes(out.size)) if p),
        # The JSON prompt a "Describe as JSON prompts" step saved: a link to it in the gallery.
        "prompt_url": routes.prompt_url(out.prompt_id) if out.prompt_id else "",
    }


def _item_row(job_id: int, item: job_service.ItemView) -> dict[str, Any]:
    progress = {"queued": 0, "running": 50, "done": 100, "failed": 100, "cancelled": 0}
    return {
        "position": item.position,
        "name": item.name,
        "status": item.status,
        "label": STATUS_LABELS.get(item.status, item.status),
        "color": STATUS_COLORS.get(item.status, "gray"),
        "progress": progress.get(item.status, 0),
        "error": item.error or "",
        "outputs": [_output_row(job_id, item.position, o) for o in item.outputs],
    }


def job_row(view: job_service.JobView, *, detailed: bool = True) -> dict[str, Any]:
    """What the page shows of a job: small values only, at most ITEM_ROWS items.

    `detailed` is False for rows from list_jobs, which carries counts but no items."""
    label = STATUS_LABELS.get(view.status, view.status)
    color = STATUS_COLORS.get(view.status, "gray")
    if view.status == "done" and view.failed:
        label, color = f"Done · {view.failed} failed", "amber"
    counts = [f"{view.done} of {view.total} done"]
    if view.failed:
        counts.append(f"{view.failed} failed")
    if view.cancelled:
        counts.append(f"{view.cancelled} cancelled")
    described = bool(view.spec.get("describe"))
    if described and view.credits_per_description:
        # Described images are charged one by one, on top of anything held for the job.
        credits = (
            f"{view.credits_charged} credits charged"
            if view.credits_charged is not None
            else f"{view.credits_per_description} credits per image described"
        )
    elif not view.credits_reserved:
        credits = "Free"
    elif view.credits_charged is not None:
        credits = f"{view.credits_charged} of {view.credits_reserved} credits charged"
    else:
        credits = f"{view.credits_reserved} credits held"
    return {
        "id": view.id,
        "status": view.status,
        "label": label,
        "color": color,
        "active": view.status in ACTIVE,
        "can_download": view.done > 0,  # while running too: the zip holds what is done so far
        "mode": "Run now" if view.mode == "now" else "Batch later",
        "steps": " → ".join(STEP_LABELS.get(s, s) for s in view.steps),
        "percent": int(view.percent),
        "total": view.total,
        "counts": " · ".join(counts),
        "credits": credits,
        "created": view.created_at.strftime("%d %b, %H:%M"),
        "error": view.error or "",
        "download_url": f"{get_settings().api_url}/api/jobs/{view.id}/download",
        "items": [_item_row(view.id, i) for i in view.items[:ITEM_ROWS]],
        "hidden_items": max(0, len(view.items) - ITEM_ROWS),
        "detailed": detailed,
        "gallery_tag": job_tag(view.id) if described else "",
    }


def _list(token: str) -> list[dict[str, Any]]:
    def rows(session: Any, user: Any) -> list[dict[str, Any]]:
        views = job_service.list_jobs(session, user=user)
        return [
            job_row(job_service.get_job(session, user=user, job_id=v.id))
            if i < DETAILED_ON_LOAD
            else job_row(v, detailed=False)
            for i, v in enumerate(views)
        ]

    return as_signed_in(token, rows)


def _fetch(token: str, job_ids: list[int]) -> dict[int, dict[str, Any]]:
    def fetch(session: Any, user: Any) -> dict[int, dict[str, Any]]:
        return {i: job_row(job_service.get_job(session, user=user, job_id=i)) for i in job_ids}

    return as_signed_in(token, fetch)


def _cancel(token: str, job_id: int) -> dict[str, Any]:
    return as_signed_in(
        token, lambda s, u: job_row(job_service.cancel_job(s, user=u, job_id=job_id))
    )


def _to_asset(token: str, job_id: int, position: int, name: str) -> tuple[int, int]:
    """The output as one of the person's images: (their user id, the image's asset id)."""
    return as_signed_in(
        token,
        lambda s, u: (
            int(u.id),
            job_service.send_output_to_analyzer(
                s, user=u, job_id=job_id, position=position, name=name
            ),
        ),
    )


class StudioJobsState(SessionState):
    jobs: list[dict[str, Any]] = []
    jobs_loaded: bool = False
    # Each poll_jobs run takes the next number and stops once a newer one exists, so exactly
    # one poller serves a tab, even when a reload or navigation cancelled the previous one
    # before its cleanup ran.
    _poller: int = 0

    @rx.var
    def has_active(self) -> bool:
        return any(j["active"] for j in self.jobs)

    @rx.event
    async def load_jobs(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            self.jobs, self.jobs_loaded = [], True
            return None
        try:
            self.jobs = await run_service(_list, self.token)
        except Exception as e:  # the page still works; the list says why it is empty
            self.jobs = []
            self.jobs_loaded = True
            return rx.toast.error(user_message(e))
        self.jobs_loaded = True
        return StudioJobsState.poll_jobs if self.has_active else None

    @rx.event
    def add_job(self, row: dict[str, Any]):  # type: ignore[no-untyped-def]
        self.jobs = [row, *[j for j in self.jobs if j["id"] != row["id"]]]
        return StudioJobsState.poll_jobs

    @rx.event(background=True)
    async def poll_jobs(self):  # type: ignore[no-untyped-def]
        async with self:
            self._poller += 1
            me, token = self._poller, self.token
        for _ in range(int(MAX_POLL_SECONDS / POLL_SECONDS)):
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                active = [int(j["id"]) for j in self.jobs if j["active"]]
                here = self.router.url.path.rstrip("/") == routes.STUDIO
                superseded = self._poller != me
            if not active or not here or superseded:
                return
            try:
                fresh = await run_service(_fetch, token, active)
            except Exception as e:  # signed out or the database is down: stop and say so
                yield rx.toast.error(user_message(e))
                return
            async with self:
                self.jobs = [fresh.get(int(j["id"]), j) for j in self.jobs]
                if any(not j["active"] for j in fresh.values()):
                    await self._refresh()  # the balance moved: refunds for failed items

    @rx.event
    async def load_items(self, job_id: int):  # type: ignore[no-untyped-def]
        try:
            fresh = await run_service(_fetch, self.token, [int(job_id)])
        except Exception as e:  # deleted meanwhile, or the session ended
            return rx.toast.error(user_message(e))
        self.jobs = [fresh.get(int(j["id"]), j) for j in self.jobs]
        return None

    @rx.event
    async def cancel(self, job_id: int):  # type: ignore[no-untyped-def]
        try:
            row = await run_service(_cancel, self.token, int(job_id))
        except Exception as e:  # already finished, or not yours
            return rx.toast.error(user_message(e))
        self.jobs = [row if j["id"] == row["id"] else j for j in self.jobs]
        if not row["active"]:  # it had not started: cancelled at once, credits refunded
            await self._refresh()
            return rx.toast.info(f"Cancelled job #{row['id']}; its credits are back.")
        return [rx.toast.info(f"Cancelling job #{row['id']}…"), StudioJobsState.poll_jobs]

    @rx.event
    async def send_to_analyzer(self, job_id: int, position: int, name: str):  # type: ignore[no-untyped-def]
        try:
            _user_id, asset_id = await run_service(
                _to_asset, self.token, int(job_id), int(position), name
            )
        except Exception as e:  # the output expired or is not an image
            return rx.toast.error(user_message(e))
        return rx.redirect(routes.analyzer_asset_url(asset_id))

    @rx.event(background=True)
    async def send_to_gallery(self, job_id: int, position: int, name: str):  # type: ignore[no-untyped-def]
        async with self:
            token = self.token
        yield rx.toast.info(f"Describing {name} for the gallery…")
        try:
            user_id, asset_id = await run_service(
                _to_asset, token, int(job_id), int(position), name
            )
            prompt_id = await describe_into_gallery(user_id=user_id, asset_id=asset_id, label=name)
        except Exception as e:  # the output expired, the image is unreadable…
            yield rx.toast.error(user_message(e))
            return
        yield rx.toast.success(f"{name} is in the gallery as prompt #{prompt_id}.")

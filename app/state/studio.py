"""`/studio`: the files picked, the operations ticked, the live cost, and Run.

StudioState holds what the page shows and runs the job; its substates change it by feature
(studio_uploads: the files picked; studio_checklist: the operations and their settings) and
re-price through `_reprice`. Picked files wait on disk (services/studio/staging.py).

The checklist lives in plain dicts of strings (see studio_form); every change re-validates the
spec with the same `parse_spec` the API uses and re-prices it with `jobs.estimate_cost`, so the
page shows the service's own words when a combination is refused.
"""

from __future__ import annotations

import contextlib
from typing import Any

import reflex as rx

from app.services.analyzer.catalogue.offers import picker_page
from app.services.billing import pricing
from app.services.core.db import session_scope
from app.services.core.errors import UserFacingError
from app.services.core.units import format_bytes
from app.services.studio import jobs, staging
from app.services.studio.imageops.spec import OpsSpec, parse_spec
from app.settings import get_settings
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState
from app.state.studio_form import DEFAULT_OPTIONS, OPERATIONS, build_raw_spec
from app.state.studio_jobs import StudioJobsState, job_row

UPLOAD_ID = "studio-upload"


def _cost(spec: OpsSpec, count: int) -> dict[str, Any]:
    with session_scope() as session:
        preview = jobs.estimate_cost(session, spec=spec, count=count)
    return {
        "per_image": preview.per_image + preview.describe_per_image,
        "now_total": preview.now_total,
        "batch_total": preview.batch_total,
        "free": preview.free,
        "lines": [{"label": label, "credits": credits} for label, credits in preview.lines],
    }


def _create(token: str, spec: OpsSpec, files: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    def create(session: Any, user: Any) -> dict[str, Any]:
        with contextlib.ExitStack() as stack:
            uploads = [(f["name"], stack.enter_context(open(f["path"], "rb"))) for f in files]
            view = jobs.create_job(session, user=user, spec=spec, uploads=uploads, mode=mode)
        return job_row(view)

    return as_signed_in(token, create)


def _describe_models(keep: str) -> list[dict[str, str]]:
    """The analyzer models "Describe as JSON prompts" can use now, priced like the analyzer's
    picker: the offline one always, remote vision models once their key is set."""
    with session_scope() as session:
        page = picker_page(session, settings=get_settings(), keep=keep)
    return [
        {
            "id": m.info.model_id,
            "label": f"{m.info.display_name} · "
            + ("free" if m.credits == 0 else f"{m.credits} credit{'' if m.credits == 1 else 's'}")
            + " / image",
        }
        for m in page.models
        if m.info.vision and not m.unavailable
    ]


def _plan(token: str) -> dict[str, Any]:
    def plan(_session: Any, user: Any) -> dict[str, Any]:
        limits = pricing.plan_limits(user)
        return {"name": limits.display_name, "max_batch": limits.max_batch}

    return as_signed_in(token, plan)


class StudioState(SessionState):
    files: list[dict[str, Any]] = []
    upload_error: str = ""
    uploading: bool = False
    enabled: dict[str, bool] = dict.fromkeys(OPERATIONS, False)
    options: dict[str, str] = dict(DEFAULT_OPTIONS)
    filters: list[str] = []
    thumbnails: list[int] = [256]
    mode: str = "now"
    spec_error: str = ""
    cost: dict[str, Any] = {}
    plan_name: str = "Free"
    max_batch: int = 0
    fal_ready: bool = False
    describe_models: list[dict[str, str]] = []
    submitting: bool = False
    _staging: str = ""
    _paths: dict[str, str] = {}
    _cost_key: str = ""

    @rx.var
    def image_count(self) -> int:
        return sum(int(f["images"]) for f in self.files)

    @rx.var
    def total_size(self) -> str:
        return format_bytes(sum(int(f["bytes"]) for f in self.files))

    @rx.var
    def picked_any(self) -> bool:
        return any(self.enabled.values())

    @rx.var
    def prices(self) -> dict[str, str]:
        """The cost preview in words: "Free", "1 credit", "5 credits"."""
        free = bool(self.cost.get("free"))
        counted = bool(self.files)

        def words(key: str) -> str:
            n = int(self.cost.get(key, 0))
            if free:
                return "Free"
            if not counted and key != "per_image":
                return "–"  # a total needs images to count
            return f"{n} credit{'' if n == 1 else 's'}"

        return {key: words(key) for key in ("per_image", "now_total", "batch_total")}

    @rx.var
    def run_label(self) -> str:
        verb = "Run now" if self.mode == "now" else "Queue batch"
        if not self.cost or not self.files:
            return verb
        n = int(self.cost.get("now_total" if self.mode == "now" else "batch_total", 0))
        return f"{verb} · " + (
            "Free" if self.cost.get("free") else f"{n} credit{'' if n == 1 else 's'}"
        )

    @rx.var
    def run_blocker(self) -> str:
        """Why Run is disabled, in words; empty when it can run."""
        if not self.files:
            return "Add images or a zip of images first."
        if not any(self.enabled.values()):
            return "Tick at least one operation."
        if self.spec_error:
            return "Fix the settings marked above."
        if self.max_batch and self.image_count > self.max_batch:
            return (
                f"Your {self.plan_name} plan runs up to {self.max_batch} images per job: "
                f"remove {self.image_count - self.max_batch}."
            )
        total = int(self.cost.get("now_total" if self.mode == "now" else "batch_total", 0))
        if total > self.credits:
            return f"This needs {total} credits and you have {self.credits}."
        return ""

    @rx.event
    async def load_studio(self) -> None:
        await self._refresh()
        if not self.user_id:
            return
        plan = await run_service(_plan, self.token)
        self.plan_name, self.max_batch = str(plan["name"]), int(plan["max_batch"])
        self.fal_ready = get_settings().fal_key is not None
        self.describe_models = await run_service(
            _describe_models, self.options.get("describe_model", "")
        )
        if not any(m["id"] == self.options.get("describe_model") for m in self.describe_models):
            self.options = {**self.options, "describe_model": DEFAULT_OPTIONS["describe_model"]}
        if not self.fal_ready and self.options.get("bg_provider") == "fal":
            self.options = {**self.options, "bg_provider": "local"}
        self._cost_key = ""
        await self._reprice()

    @rx.event
    async def run_job(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        await self._reprice()
        if self.run_blocker or self.submitting:
            yield rx.toast.info(self.run_blocker or "Starting…")
            return
        spec = parse_spec(self._raw_spec())
        picked = [{**f, "path": self._paths[f["id"]]} for f in self.files if f["id"] in self._paths]
        self.submitting = True
        yield
        try:
            row = await run_service(_create, self.token, spec, picked, self.mode)
        except Exception as e:  # limits, credits, unusable files: the service's own words
            self.submitting = False
            yield rx.toast.error(user_message(e))
            return
        self.submitting = False
        await run_service(staging.discard, self._staging)
        self._staging, self._paths, self.files, self.upload_error = "", {}, [], ""
        await self._refresh()
        await self._reprice()
        label = "Started" if self.mode == "now" else "Queued"
        yield rx.toast.success(f"{label} job #{row['id']} for {row['total']} images.")
        yield StudioJobsState.add_job(row)

    def _raw_spec(self) -> dict[str, Any]:
        return build_raw_spec(self.enabled, self.options, self.filters, self.thumbnails)

    async def _reprice(self) -> None:
        if not any(self.enabled.values()):
            self.spec_error, self.cost, self._cost_key = "", {}, ""
            return
        try:
            spec = parse_spec(self._raw_spec())
        except UserFacingError as e:
            self.spec_error, self.cost, self._cost_key = e.message, {}, ""
            return
        self.spec_error = ""
        count = sum(int(f["images"]) for f in self.files)
        key = f"{spec.model_dump_json()}|{count}"
        if key == self._cost_key:
            return
        try:
            self.cost = await run_service(_cost, spec, count)
            self._cost_key = key
        except Exception as e:  # pricing unavailable: say so instead of showing a wrong price
            self.cost, self._cost_key = {}, ""
            self.spec_error = user_message(e)

"""`/generate` runs: start one, watch its images arrive, cancel it; recent runs survive a reload.

Starting never waits for images: the run goes to the job queue and the page keeps working (a
second run can start meanwhile). While any run shown is queued or running, one background
event asks the service about once a second and stops when none is, or when the person left.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from app import routes
from app.services.core.errors import UserFacingError
from app.services.core.storage import get_storage
from app.services.generation import lora_training, runs
from app.services.generation.model_choices import OFFLINE_LABEL
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.run_reads import image_links, recent_generations
from app.services.generation.run_records import GenerationView
from app.state.base import as_signed_in, run_service, user_message
from app.state.generate import GenerateState
from app.state.generate_inputs import lora_request, plan
from app.state.generate_rows import run_row

POLL_SECONDS = 1.0
RECENT_RUNS = 10
MAX_POLL_SECONDS = 3600  # a forgotten tab stops asking after an hour


def _rows(
    session: Any, user: Any, views: list[GenerationView], labels: dict[str, str]
) -> list[dict[str, Any]]:
    links = image_links(session, user=user, storage=get_storage(),
                        asset_ids=[i.asset_id for v in views for i in v.images])  # fmt: skip
    return [run_row(v, model_label=labels.get(v.model, v.model), links=links) for v in views]


def _recent(token: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    return as_signed_in(
        token, lambda s, u: _rows(s, u, recent_generations(s, user=u, limit=RECENT_RUNS), labels)
    )


def _fetch(token: str, ids: list[int], labels: dict[str, str]) -> list[dict[str, Any]]:
    def fetch(session: Any, user: Any) -> list[dict[str, Any]]:
        views = [runs.get_generation(session, user=user, generation_id=i) for i in ids]
        return _rows(session, user, views, labels)

    return as_signed_in(token, fetch)


class LoraRefusedError(Exception):
    """A picked LoRA the service refuses (not theirs, not trained): said beside the picker."""


def _start(token: str, request: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    def start(session: Any, user: Any) -> dict[str, Any]:
        if request.get("loras"):
            try:
                lora_training.lora_weights(session, user=user, loras=request["loras"])
            except UserFacingError as e:
                raise LoraRefusedError(e.message) from e
        view = runs.start_generation(session, user=user, **request)
        return _rows(session, user, [view], labels)[0]

    return as_signed_in(token, start)


def _cancel(token: str, generation_id: int, labels: dict[str, str]) -> dict[str, Any]:
    def cancel(session: Any, user: Any) -> dict[str, Any]:
        view = runs.cancel_generation(session, user=user, generation_id=generation_id)
        return _rows(session, user, [view], labels)[0]

    return as_signed_in(token, cancel)


class GenerateRunsState(GenerateState):
    runs: list[dict[str, Any]] = []
    starting: bool = False
    _poller: int = 0

    def _labels(self) -> dict[str, str]:
        return {OFFLINE_MODEL_ID: OFFLINE_LABEL, **{m["id"]: m["label"] for m in self.models}}

    @rx.var
    def has_active(self) -> bool:
        return any(r["active"] for r in self.runs)

    @rx.event
    async def load_runs(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            self.runs = []
            return None
        try:
            self.runs = await run_service(_recent, self.token, self._labels())
        except Exception as e:  # the form still works; the list says why it is empty
            self.runs = []
            return rx.toast.error(user_message(e))
        return GenerateRunsState.poll_runs if self.has_active else None

    def _request(self) -> dict[str, Any] | None:
        """The start_generation arguments, or None with the errors beside their controls."""
        planned = plan(self._data if self.has_source else None, self._choices())
        try:
            loras = lora_request(self.picked_loras)
        except ValueError as e:
            self.errors = {**self.errors, **planned.errors, "loras": str(e)}
            return None
        if not planned.ok:
            self.errors = {**self.errors, **planned.errors}
            return None
        request: dict[str, Any] = {
            "model": self.run_model_id,
            "loras": loras or None,
            "n": planned.n,
            "seed": planned.seed,
            "aspect": planned.aspect,
            "preset": self.preset or None,
            "steps": planned.steps,
            "guidance": planned.guidance,
        }
        if self.prompt_id:
            request.update(prompt_id=self.prompt_id, version=int(self.version))
        else:
            request["prompt"] = self._data
        return request

    @rx.event
    async def start_run(self):  # type: ignore[no-untyped-def]
        errors = {k: v for k, v in self.errors.items() if k != "run"}
        self.errors = errors
        request = self._request()
        if request is None or self.starting:
            return
        self.starting = True
        yield
        try:
            row = await run_service(_start, self.token, request, self._labels())
        except LoraRefusedError as e:  # deleted or not theirs since it was picked: by the picker
            self.errors = {**self.errors, "loras": str(e)}
            self.starting = False
            return
        except Exception as e:  # no credits, a missing key, a prompt gone: said by the button
            self.errors = {**self.errors, "run": user_message(e)}
            self.starting = False
            await self._refresh()
            return
        self.starting = False
        self.runs = [row, *[r for r in self.runs if r["id"] != row["id"]]]
        await self._refresh()  # the balance moved: the credits are held
        yield GenerateRunsState.poll_runs

    @rx.event(background=True)
    async def poll_runs(self):  # type: ignore[no-untyped-def]
        async with self:
            self._poller += 1
            me, token, labels = self._poller, self.token, self._labels()
        for _ in range(int(MAX_POLL_SECONDS / POLL_SECONDS)):
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                active = [int(r["id"]) for r in self.runs if r["active"]]
                here = self.router.url.path.rstrip("/") == routes.GENERATE
                superseded = self._poller != me
            if not active or not here or superseded:
                return
            try:
                fresh = {r["id"]: r for r in await run_service(_fetch, token, active, labels)}
            except Exception as e:  # signed out or the database is down: stop and say so
                yield rx.toast.error(user_message(e))
                return
            async with self:
                self.runs = [fresh.get(r["id"], r) for r in self.runs]
                if any(not r["active"] for r in fresh.values()):
                    await self._refresh()  # refunds for failed or cancelled images

    @rx.event
    async def cancel_run(self, generation_id: int):  # type: ignore[no-untyped-def]
        try:
            row = await run_service(_cancel, self.token, int(generation_id), self._labels())
        except Exception as e:  # it finished meanwhile
            return rx.toast.error(user_message(e))
        self.runs = [row if r["id"] == row["id"] else r for r in self.runs]
        await self._refresh()
        return GenerateRunsState.poll_runs

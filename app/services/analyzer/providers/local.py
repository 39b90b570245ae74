"""The offline model: real computer vision for describing, documented rules for refining.

It speaks the same streaming protocol as the remote models: each analysis stage's field is
sent as a JSON fragment as soon as the stage finishes, with a sentence of reasoning.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from app.services.analyzer.providers.base import (
    ChatRequest,
    ContentDelta,
    Model,
    ModelInfo,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    Usage,
)
from app.services.analyzer.providers.plugins import Register, hookimpl
from app.services.analyzer.refine_rules import refine
from app.services.analyzer.vision import FieldResult, iter_analysis
from app.services.core.errors import InvalidInputError
from app.services.library.prompts import SCHEMA_VERSION

LOCAL_MODEL_ID = "local/jsoncraft-vision"


@hookimpl
def register_models(register: Register) -> None:
    register(LocalModel())


class LocalModel(Model):
    info = ModelInfo(
        model_id=LOCAL_MODEL_ID,
        provider="local",
        display_name="Offline analyzer",
        aliases=("local", "offline"),
        needs_key=False,
        vision=True,
        reasoning=True,
        credits_per_call=0,
        price_note="Free, runs on this server",
        description=(
            "Measures palette, light, composition, sharpness, faces, text (OCR) and camera data "
            "offline. Subjects, style and mood are rule-based guesses: a vision model gives richer "
            "descriptions. Refines with a fixed set of understood edits."
        ),
    )

    async def stream(
        self,
        request: ChatRequest,
        *,
        client: httpx.AsyncClient | None = None,  # noqa: ARG002 (no network: part of the protocol)
    ) -> AsyncIterator[StreamEvent]:
        if self.Options.parse(request.options).task == "refine":
            async for event in self._refine(request):
                yield event
            return
        image = next((m.image for m in reversed(request.messages) if m.image is not None), None)
        if image is None:
            raise InvalidInputError("Add an image to analyze.")
        fields: Iterator[FieldResult] = iter_analysis(image.data)
        yield ContentDelta('{"schema_version": ' + json.dumps(SCHEMA_VERSION))
        while True:
            # Each stage is CPU work (OpenCV, OCR): run it off the event loop.
            result = await asyncio.to_thread(next, fields, None)
            if result is None:
                break
            if result.note:
                mark = " (estimate)" if result.heuristic else ""
                yield ReasoningDelta(f"{result.note}{mark}\n")
            fragment = (
                f", {json.dumps(result.field)}: {json.dumps(result.value, ensure_ascii=False)}"
            )
            for start in range(0, len(fragment), 96):  # small deltas, like a remote stream
                yield ContentDelta(fragment[start : start + 96])
        yield ContentDelta("}")
        yield Usage(prompt_tokens=0, completion_tokens=0, cost_usd=0.0)
        yield StreamEnd("stop")

    async def _refine(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        current = _last_prompt(request)
        instruction = next(
            (m.text for m in reversed(request.messages) if m.role == "user"), ""
        ).removeprefix("Edit request: ")
        result = refine(current, instruction)
        for change in result.changes:
            yield ReasoningDelta(change + "\n")
        yield ContentDelta(json.dumps(result.data, ensure_ascii=False))
        yield Usage(prompt_tokens=0, completion_tokens=0, cost_usd=0.0)
        yield StreamEnd("stop")


def _last_prompt(request: ChatRequest) -> dict[str, Any]:
    for message in reversed(request.messages):
        if message.role == "assistant":
            try:
                data = json.loads(message.text)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                return data
    raise InvalidInputError("There is no prompt to refine yet: analyze an image first.")

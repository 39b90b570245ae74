"""Fal.ai vision-language models for the analyzer, run through Fal's queue (`fal_queue`).

    POST {FAL_QUEUE_URL}/openrouter/router/vision   Authorization: Key {FAL_KEY}
    {"model": "google/gemini-2.5-flash", "prompt", "system_prompt",
     "image_urls": ["data:image/jpeg;base64,..."], "temperature"?, "max_tokens"?}
    -> (once COMPLETED) {"output": "...text...", "usage": {"prompt_tokens",
                         "completion_tokens", "cost"}}

`openrouter/router/vision` is Fal's endpoint for any vision-language model (its older
`fal-ai/any-llm/vision` is deprecated). It takes one prompt, not a conversation, so a
multi-turn request (a refinement, the analyzer's "fix your JSON" retry) is sent as a labelled
transcript. The queue does not stream tokens: while the request waits, the model yields short
status lines as reasoning (the analyzer's running text beside the fields), then the whole
answer as one `ContentDelta`, which goes through the same JSON repair and validation as any
model's answer.

Registered only when FAL_KEY is set, like the OpenAI-compatible endpoint's models only when
its URL is: an install without a Fal account keeps the picker it had.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import httpx
from pydantic import Field

from app.services.analyzer.providers.base import (
    ChatMessage,
    ChatRequest,
    ContentDelta,
    Model,
    ModelInfo,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    Usage,
)
from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, RetryPolicy
from app.services.analyzer.providers.options import Options
from app.services.analyzer.providers.plugins import ProviderContext, Register, hookimpl
from app.services.core.errors import InvalidOutputError, MissingKeyError
from app.services.generation.providers.fal_queue import KEY_ENV_VAR, LABEL, MISSING_KEY, FalQueue
from app.services.generation.types import Progress
from app.settings import Settings

PROVIDER = "fal"
ENDPOINT = "openrouter/router/vision"


class FalVisionOptions(Options):
    """What the endpoint takes beyond the prompt and images."""

    temperature: float | None = Field(None, ge=0, le=2, description="a number from 0 to 2")
    max_tokens: int | None = Field(None, ge=1, description="a whole number of at least 1")


def _info(
    api_model: str, display: str, alias: str, credits: int, note: str, description: str
) -> ModelInfo:
    # "fal/<vendor>/<model>": never the OpenRouter id of the same model, which runs elsewhere.
    return ModelInfo(
        model_id=f"{PROVIDER}/{api_model}",
        provider=PROVIDER,
        display_name=f"{display} on Fal",
        aliases=(alias,),
        key_env_var=KEY_ENV_VAR,
        credits_per_call=credits,
        price_note=note,
        description=description,
    )


# (model info, the model name the endpoint expects). Fal bills these by tokens at the
# underlying model's list prices when written; credits per call follow OpenRouter's pricing
# of the same models, so the picker's choice is about the account, not the price.
BUILTIN_MODELS: tuple[tuple[ModelInfo, str], ...] = (
    (
        _info(
            "google/gemini-2.5-flash",
            "Google Gemini 2.5 Flash",
            "fal-gemini",
            3,
            "billed by Fal per token: $0.30 / M input, $2.50 / M output",
            "Gemini through a Fal.ai account; the answer arrives whole, not streamed.",
        ),
        "google/gemini-2.5-flash",
    ),
    (
        _info(
            "openai/gpt-4o-mini",
            "OpenAI GPT-4o mini",
            "fal-gpt-4o-mini",
            2,
            "billed by Fal per token: $0.15 / M input, $0.60 / M output",
            "GPT-4o mini through a Fal.ai account; the answer arrives whole, not streamed.",
        ),
        "openai/gpt-4o-mini",
    ),
)


@hookimpl
def register_models(register: Register, context: ProviderContext) -> None:
    """Fal's vision models, when FAL_KEY is set."""
    if FalQueue(settings=context.settings).api_key() is None:
        return
    for info, api_model in BUILTIN_MODELS:
        model = FalVisionModel(
            info, api_model=api_model, settings=context.settings, retry=context.retry
        )
        register(model)


class FalVisionModel(Model):
    Options = FalVisionOptions

    def __init__(
        self,
        info: ModelInfo,
        *,
        api_model: str,
        settings: Settings,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.info = info
        self.api_model = api_model
        self._settings = settings
        self._retry = retry

    def unavailable_reason(self) -> str | None:
        return None if FalQueue(settings=self._settings).api_key() else MISSING_KEY

    def arguments(self, request: ChatRequest, options: FalVisionOptions) -> dict[str, Any]:
        """The queue input for `request`."""
        system = "\n\n".join(m.text for m in request.messages if m.role == "system")
        turns = [m for m in request.messages if m.role != "system"]
        args: dict[str, Any] = {"model": self.api_model, "prompt": _prompt(turns)}
        if system:
            args["system_prompt"] = system
        images = [_data_url(m) for m in request.messages if m.image is not None]
        if images:
            args["image_urls"] = images
        if options.temperature is not None:
            args["temperature"] = options.temperature
        if options.max_tokens is not None:
            args["max_tokens"] = options.max_tokens
        return args

    async def stream(
        self, request: ChatRequest, *, client: httpx.AsyncClient | None = None
    ) -> AsyncIterator[StreamEvent]:
        options = cast(FalVisionOptions, self.check_request(request))
        queue = FalQueue(settings=self._settings, retry=self._retry, client=client)
        if queue.api_key() is None:
            raise MissingKeyError(MISSING_KEY)
        arguments = self.arguments(request, options)
        # The queue reports progress through a callback; a generator can only yield, so the
        # run goes in a task that feeds its reports (then None, when it ends) to this loop.
        reports: asyncio.Queue[Progress | None] = asyncio.Queue()
        run = asyncio.create_task(queue.run(ENDPOINT, arguments, on_progress=reports.put_nowait))
        run.add_done_callback(lambda _: reports.put_nowait(None))
        try:
            while (progress := await reports.get()) is not None:
                yield ReasoningDelta(_status_line(progress))
            _, output = run.result()  # the run's error, if it failed
        finally:
            if not run.done():
                # The analysis was stopped: FalQueue.run cancels the request at Fal.
                run.cancel()
                await asyncio.wait([run])
            if not run.cancelled():
                run.exception()  # retrieved: already raised above, or nothing
        text = output.get("output") if isinstance(output, Mapping) else None
        if not isinstance(text, str) or not text.strip():
            raise InvalidOutputError(
                f"{LABEL} finished without an answer. Try again, or pick another model."
            )
        yield ContentDelta(text)
        usage = _usage(output.get("usage"))
        if usage is not None:
            yield usage
        yield StreamEnd("stop")


def _prompt(turns: list[ChatMessage]) -> str:
    """One message as is; a conversation as a transcript the model can follow."""
    if len(turns) == 1:
        return turns[0].text
    names = {"user": "User", "assistant": "Your previous reply", "system": "System"}
    return "\n\n".join(f"{names[m.role]}:\n{m.text}" for m in turns)


def _data_url(message: ChatMessage) -> str:
    assert message.image is not None
    data = base64.b64encode(message.image.data).decode("ascii")
    return f"data:{message.image.mime_type};base64,{data}"


def _status_line(progress: Progress) -> str:
    if progress.stage == "queued":
        ahead = "" if progress.position is None else f", {progress.position} ahead"
        return f"[Waiting in {LABEL}'s queue{ahead}.]\n"
    if progress.stage == "running":
        return f"[{LABEL} is running the model.]\n"
    return f"[{LABEL} finished; reading the answer.]\n"


def _usage(raw: object) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    cost = raw.get("cost")
    if isinstance(cost, bool) or not isinstance(cost, int | float):
        cost = None
    return Usage(
        prompt_tokens=_count(raw.get("prompt_tokens")),
        completion_tokens=_count(raw.get("completion_tokens")),
        cost_usd=float(cost) if cost is not None else None,
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

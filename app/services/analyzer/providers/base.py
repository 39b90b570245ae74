"""What every model provider speaks: requests in, a stream of typed events out.

A stream yields any number of `ReasoningDelta` / `ContentDelta` events, then at most one
`Usage` (only when the provider reported one), then exactly one `StreamEnd`. Failures are
raised as `ProviderError` subclasses (see `app.services.core.errors`), never yielded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx

from app.services.analyzer.providers import options
from app.services.core.errors import InvalidInputError


@dataclass(frozen=True)
class ImageInput:
    data: bytes
    mime_type: str


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    text: str
    image: ImageInput | None = None


@dataclass(frozen=True)
class ChatRequest:
    """One call. `options` are parsed by the model that serves it, with its `Options` class
    (unknown ones are refused): see `options` for each provider's."""

    messages: tuple[ChatMessage, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    # Ask for an answer matching this JSON Schema, where the model supports structured
    # outputs (`ModelInfo.structured_outputs`); other models get the schema in the prompt only.
    json_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ContentDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = None
    # OpenRouter's structured reasoning blocks, merged across chunks; send them back on the
    # next turn to keep a reasoning model's chain of thought.
    reasoning_details: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StreamEnd:
    finish_reason: str | None


StreamEvent = ReasoningDelta | ContentDelta | Usage | StreamEnd


@dataclass(frozen=True)
class ModelInfo:
    model_id: str  # "vendor/model"
    provider: str
    display_name: str
    aliases: tuple[str, ...] = ()
    needs_key: bool = True
    key_env_var: str | None = None
    vision: bool = True
    reasoning: bool = False
    credits_per_call: int = 1
    price_note: str = ""
    description: str = ""
    # Takes `response_format: {"type": "json_schema", ...}` (OpenRouter: "structured_outputs").
    structured_outputs: bool = False
    # USD of one typical call at the catalogue's list prices: such a model is priced by the
    # admin's markup rule and charged what the provider reports (see billing/pricing.py).
    usd_per_call: float | None = None
    context_length: int | None = None


ANALYSIS = "analysis"


class Model(ABC):
    """A model that can be picked by name. Subclasses set `info` and implement `stream`,
    and set `Options` to the options they take (default: none but hints)."""

    # The registry keeps one table per kind of model: these read images and text and write
    # text. Another kind (image generation) subclasses its own base with its own `kind`.
    kind: ClassVar[str] = ANALYSIS
    Options: ClassVar[type[options.Options]] = options.Options
    info: ModelInfo

    def unavailable_reason(self) -> str | None:
        """Why the model cannot be used right now (shown in the model picker), or None."""
        return None

    def is_available(self) -> bool:
        return self.unavailable_reason() is None

    def check_request(self, request: ChatRequest) -> options.Options:
        """Refuse requests this model cannot serve, before spending a call on them; the
        request's options, parsed."""
        if not request.messages:
            raise InvalidInputError("Nothing to send: the request has no messages.")
        if not self.info.vision and any(m.image is not None for m in request.messages):
            raise InvalidInputError(
                f"{self.info.display_name} cannot see images. Pick a model with vision."
            )
        return self.Options.parse(request.options)

    @abstractmethod
    def stream(
        self, request: ChatRequest, *, client: httpx.AsyncClient | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Run one request. Implement as `async def stream(...)` that yields events."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.model_id}>"

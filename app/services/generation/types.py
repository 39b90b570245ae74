"""What a generation asks for and what comes back, shared by every image provider.

A `GenerationRequest` is already rendered for its model (`prompt` is prose, or the JSON
object for models that take structured prompts); a provider sends the fields its model
takes and ignores the rest. Each image comes back as a `GeneratedImage` with what is needed
to reproduce it. `Progress` reports let a caller show "queued (3rd)", "running", "done".
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.services.core.errors import InvalidInputError

MIN_SIDE = 64
MAX_SIDE = 2048
MAX_IMAGES = 4  # per call; more is a batch of calls


@dataclass(frozen=True)
class LoraWeight:
    """A trained LoRA to apply (`path` is the weights file's URL), and how strongly."""

    path: str
    scale: float = 1.0


@dataclass(frozen=True)
class GenerationRequest:
    model_id: str
    prompt: str | Mapping[str, Any]
    width: int = 1024
    height: int = 1024
    n: int = 1
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    negative: str | None = None  # sent only to models that accept one
    loras: tuple[LoraWeight, ...] = ()

    def __post_init__(self) -> None:
        if not self.prompt or not self.prompt_text().strip():
            raise InvalidInputError("The prompt is empty: write or pick a prompt first.")
        for name, side in (("width", self.width), ("height", self.height)):
            if isinstance(side, bool) or not isinstance(side, int):
                raise InvalidInputError(f"The {name} must be a whole number of pixels.")
            if not MIN_SIDE <= side <= MAX_SIDE:
                raise InvalidInputError(
                    f"The {name} must be from {MIN_SIDE} to {MAX_SIDE} pixels, not {side}."
                )
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= MAX_IMAGES:
            raise InvalidInputError(
                f"Ask for 1 to {MAX_IMAGES} images at a time; run a batch for more."
            )
        if self.seed is not None and (not _whole(self.seed) or not 0 <= self.seed < 2**32):
            raise InvalidInputError("The seed must be a whole number from 0 to 4294967295.")
        if self.steps is not None and (not _whole(self.steps) or not 1 <= self.steps <= 100):
            raise InvalidInputError("Steps must be a whole number from 1 to 100.")
        if self.guidance is not None and not (_number(self.guidance) and 0 <= self.guidance <= 50):
            raise InvalidInputError("Guidance must be a number from 0 to 50.")

    def prompt_text(self) -> str:
        """The prompt as it goes on the wire: prose as is, a JSON prompt serialised."""
        if isinstance(self.prompt, str):
            return self.prompt
        return json.dumps(self.prompt, ensure_ascii=False)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    # NaN fails every comparison, so the range check that follows refuses it too.
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    mime_type: str
    provider: str
    model: str
    seed: int | None  # the seed the provider reports, else the one we sent
    request_id: str | None  # the provider's id for the call, for support and reproduction
    duration_seconds: float  # from the first request to the last byte, for the whole call
    nsfw: bool | None = None  # None when the provider does not say


@dataclass(frozen=True)
class Progress:
    """One step of a running generation. `position` is the place in the provider's queue
    (0 = next) while `stage` is "queued", when the provider says."""

    stage: Literal["queued", "running", "done"]
    position: int | None = None
    request_id: str | None = None


# Called on each step; may be a plain function or a coroutine function.
ProgressCallback = Callable[[Progress], Awaitable[None] | None]

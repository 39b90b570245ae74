"""The image-generation kind of model: what the registry keeps beside the analysis models.

model = registry.get_model("flux-schnell", ImageModel)
images = await model.generate(request, on_progress=show)
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import httpx

from app.services.analyzer.providers.base import ModelInfo
from app.services.generation.types import (
    GeneratedImage,
    GenerationRequest,
    Progress,
    ProgressCallback,
)

IMAGE_GENERATION = "image_generation"


class ImageModel(ABC):
    """A model that draws images. `info.vision` is False: these read text, not images."""

    kind: ClassVar[str] = IMAGE_GENERATION
    info: ModelInfo
    # Which optional request fields reach the provider; the others are left out.
    takes_steps: bool = False
    takes_guidance: bool = False
    takes_negative: bool = False
    takes_loras: bool = False

    def unavailable_reason(self) -> str | None:
        """Why the model cannot be used right now (a missing key), or None."""
        return None

    def is_available(self) -> bool:
        return self.unavailable_reason() is None

    @abstractmethod
    async def generate(
        self,
        request: GenerationRequest,
        *,
        client: httpx.AsyncClient | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[GeneratedImage]:
        """Make `request.n` images. Failures raise ProviderError subclasses."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.model_id}>"


async def report(on_progress: ProgressCallback | None, progress: Progress) -> None:
    """Tell the caller, whether its callback is a plain function or a coroutine function."""
    if on_progress is None:
        return
    result = on_progress(progress)
    if inspect.isawaitable(result):
        await result


def nearest_aspect(width: int, height: int, choices: Sequence[str]) -> str:
    """The ratio among `choices` ("16:9", ...) closest to width:height."""

    def distance(aspect: str) -> float:
        w, h = aspect.split(":")
        return abs(int(w) / int(h) - width / height)

    return min(choices, key=distance)

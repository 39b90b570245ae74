"""One image from a model, exactly as recorded: the provider's call, or the offline preview.

Shared by the queue task (run_worker.py) and the operator's command line (direct.py), so an
image made either way went through the same code: the same request, the same renderer.
"""

from __future__ import annotations

import asyncio
import json
import time

from app.services.analyzer.providers.setup import ensure_models
from app.services.core.errors import InvalidOutputError
from app.services.core.provider_calls import error_kind, record_provider_call
from app.services.generation.layout_preview import draw_board
from app.services.generation.providers.base import ImageModel
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.types import GeneratedImage, GenerationRequest, LoraWeight

OFFLINE_PROVIDER = "offline"


def image_model(name: str) -> ImageModel:
    """The registered image-generation model `name` stands for; UnknownModelError if none."""
    return ensure_models().get_model(name, ImageModel)  # type: ignore[type-abstract]


def make_image(
    *,
    model_id: str,
    prompt_format: str,
    prompt_sent: str,
    width: int,
    height: int,
    seed: int | None,
    steps: int | None = None,
    guidance: float | None = None,
    negative: str | None = None,
    loras: tuple[LoraWeight, ...] = (),
) -> GeneratedImage:
    """One image of `model_id` for the prompt as sent (`prompt_format` "json" or "text").
    Provider failures raise the ProviderError subclasses; the only database write is the
    record of the provider's call (its metrics and ProviderCall row)."""
    sent: str | dict[str, object] = prompt_sent
    if prompt_format == "json":
        sent = json.loads(prompt_sent)
    if model_id == OFFLINE_MODEL_ID:
        assert isinstance(sent, dict)
        started = time.monotonic()
        data = draw_board(sent, width=width, height=height, seed=seed or 0)
        return GeneratedImage(
            data=data,
            mime_type="image/png",
            provider=OFFLINE_PROVIDER,
            model=OFFLINE_MODEL_ID,
            seed=seed,
            request_id=None,
            duration_seconds=time.monotonic() - started,
        )
    model = image_model(model_id)
    request = GenerationRequest(
        model_id=model_id,
        prompt=sent,
        width=width,
        height=height,
        n=1,
        seed=seed,
        steps=steps,
        guidance=guidance,
        negative=negative,
        loras=loras,
    )
    started = time.monotonic()
    try:
        made = asyncio.run(model.generate(request))
        if not made:
            raise InvalidOutputError("The provider sent no image back. The credits were refunded.")
    except Exception as e:
        record_provider_call(
            model.info.provider, "generation", error_kind(e), time.monotonic() - started
        )
        raise
    record_provider_call(model.info.provider, "generation", None, time.monotonic() - started)
    return made[0]

"""Fal.ai image models (FLUX), run through the queue (`fal_queue`).

Input: `prompt`, `image_size` (a preset name when the size is one, else {width, height}),
`num_images`, `seed`, and where the model takes them `num_inference_steps`,
`guidance_scale` and `loras: [{path, scale}]`; FLUX1.1 [pro] ultra takes an `aspect_ratio`
instead of a size. Output: `images[].url`, `seed`, `has_nsfw_concepts[]`.

Fal's safety checker turns a flagged image black: each image keeps its `nsfw` flag, and a
run whose every image was flagged is refused (ContentRefusedError), since nothing usable came.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.services.analyzer.providers.base import ModelInfo
from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, RetryPolicy
from app.services.analyzer.providers.plugins import ProviderContext, Register, hookimpl
from app.services.core.errors import ContentRefusedError, InvalidOutputError
from app.services.core.http import shared_client
from app.services.generation.providers.base import ImageModel, nearest_aspect
from app.services.generation.providers.fal_queue import KEY_ENV_VAR, LABEL, MISSING_KEY, FalQueue
from app.services.generation.providers.transport import Endpoint, download_image
from app.services.generation.types import GeneratedImage, GenerationRequest, ProgressCallback
from app.settings import Settings

PROVIDER = "fal"
# Downloads of finished images (the queue calls have their own, shorter timeout).
DOWNLOAD_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)

SIZE_PRESETS: dict[tuple[int, int], str] = {
    (1024, 1024): "square_hd",
    (512, 512): "square",
    (768, 1024): "portrait_4_3",
    (576, 1024): "portrait_16_9",
    (1024, 768): "landscape_4_3",
    (1024, 576): "landscape_16_9",
}
ULTRA_ASPECTS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")


def _info(model_id: str, display: str, alias: str, credits: int, note: str) -> ModelInfo:
    return ModelInfo(
        model_id=model_id,
        provider=PROVIDER,
        display_name=display,
        aliases=(alias,),
        key_env_var=KEY_ENV_VAR,
        vision=False,
        credits_per_call=credits,
        price_note=note,
    )


# model info, takes steps and guidance, takes LoRAs (Fal's prices when written).
BUILTIN_MODELS: tuple[tuple[ModelInfo, bool, bool], ...] = (
    (
        _info("fal-ai/flux/schnell", "FLUX.1 [schnell] on Fal", "fal-schnell", 1, "$0.003 / MP"),
        True,
        False,
    ),
    (_info("fal-ai/flux/dev", "FLUX.1 [dev] on Fal", "fal-dev", 3, "$0.025 / MP"), True, False),
    (
        _info("fal-ai/flux-pro/v1.1", "FLUX1.1 [pro] on Fal", "fal-pro", 4, "$0.04 / MP"),
        False,
        False,
    ),
    (
        _info(
            "fal-ai/flux-pro/v1.1-ultra",
            "FLUX1.1 [pro] ultra on Fal",
            "fal-ultra",
            6,
            "$0.06 / image",
        ),
        False,
        False,
    ),
    (
        _info("fal-ai/flux-lora", "FLUX.1 [dev] with LoRAs on Fal", "fal-lora", 4, "$0.035 / MP"),
        True,
        True,
    ),
)
ULTRA = "fal-ai/flux-pro/v1.1-ultra"


@hookimpl
def register_models(register: Register, context: ProviderContext) -> None:
    for info, steps, loras in BUILTIN_MODELS:
        register(
            FalImageModel(
                info, settings=context.settings, retry=context.retry, steps=steps, loras=loras
            )
        )


class FalImageModel(ImageModel):
    def __init__(
        self,
        info: ModelInfo,
        *,
        settings: Settings,
        retry: RetryPolicy = DEFAULT_RETRY,
        steps: bool = True,
        loras: bool = False,
    ) -> None:
        self.info = info
        self.takes_steps = self.takes_guidance = steps
        self.takes_loras = loras
        self._settings = settings
        self._retry = retry

    def unavailable_reason(self) -> str | None:
        return None if FalQueue(settings=self._settings).api_key() else MISSING_KEY

    def arguments(self, request: GenerationRequest) -> dict[str, Any]:
        """The queue input for `request` (also what "What the model receives" shows)."""
        args: dict[str, Any] = {
            "prompt": request.prompt_text(),
            "num_images": request.n,
            "enable_safety_checker": True,
        }
        if self.info.model_id == ULTRA:
            args["aspect_ratio"] = nearest_aspect(request.width, request.height, ULTRA_ASPECTS)
        else:
            args["image_size"] = image_size(request.width, request.height)
        if request.seed is not None:
            args["seed"] = request.seed
        if self.takes_steps and request.steps is not None:
            args["num_inference_steps"] = request.steps
        if self.takes_guidance and request.guidance is not None:
            args["guidance_scale"] = request.guidance
        if self.takes_loras and request.loras:
            args["loras"] = [{"path": lora.path, "scale": lora.scale} for lora in request.loras]
        return args

    async def generate(
        self,
        request: GenerationRequest,
        *,
        client: httpx.AsyncClient | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[GeneratedImage]:
        queue = FalQueue(settings=self._settings, retry=self._retry, client=client)
        started = time.monotonic()
        queued, output = await queue.run(
            self.info.model_id, self.arguments(request), on_progress=on_progress
        )
        items = output.get("images") if isinstance(output, dict) else None
        if not isinstance(items, list) or not items:
            raise InvalidOutputError(f"{LABEL} finished without any image. Try again.")
        flags = output.get("has_nsfw_concepts")
        flags = flags if isinstance(flags, list) else []
        if flags and len(flags) == len(items) and all(flag is True for flag in flags):
            raise ContentRefusedError(
                f"{LABEL}'s safety checker flagged every image of this prompt. Reword the "
                "prompt and try again."
            )
        seed = output.get("seed")
        endpoint = Endpoint(LABEL, self.info.model_id, queue.api_key(), KEY_ENV_VAR)
        http = client if client is not None else await shared_client()
        images = []
        for index, item in enumerate(items):
            url = item.get("url") if isinstance(item, dict) else None
            if not isinstance(url, str):
                raise InvalidOutputError(f"{LABEL} sent an image without a link. Try again.")
            data, mime = await download_image(
                http,
                url,
                endpoint=endpoint,
                timeout=DOWNLOAD_TIMEOUT,
                retry=self._retry,
                limit=self._settings.max_upload_bytes,
            )
            flag = flags[index] if index < len(flags) else None
            images.append(
                GeneratedImage(
                    data=data,
                    mime_type=mime,
                    provider=PROVIDER,
                    model=self.info.model_id,
                    seed=seed if isinstance(seed, int) else request.seed,
                    request_id=queued.request_id,
                    duration_seconds=time.monotonic() - started,
                    nsfw=flag if isinstance(flag, bool) else None,
                )
            )
        return images


def image_size(width: int, height: int) -> str | dict[str, int]:
    """Fal's preset name for a size it has one for, else the size itself."""
    return SIZE_PRESETS.get((width, height)) or {"width": width, "height": height}

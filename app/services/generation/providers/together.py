"""Together AI: FLUX by one synchronous call.

    POST {TOGETHER_BASE_URL}/images/generations     Authorization: Bearer {TOGETHER_API_KEY}
    {"model", "prompt", "width", "height", "steps", "n", "seed", "response_format": "url"|"base64"}
    -> {"id": ..., "data": [{"url": ...} | {"b64_json": ...}, ...]}

Width and height must be multiples of 16: they are rounded to the nearest one. Returned URLs
live on a CDN that answers 403 to requests without a User-Agent (`transport` sends one).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import httpx

from app.services.analyzer.providers.base import ModelInfo
from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, RetryPolicy
from app.services.analyzer.providers.plugins import ProviderContext, Register, hookimpl
from app.services.core.errors import InvalidOutputError, MissingKeyError
from app.services.core.http import shared_client
from app.services.generation.providers.base import ImageModel, report
from app.services.generation.providers.transport import (
    Endpoint,
    decode_base64,
    download_image,
    request_json,
    sniff_image,
)
from app.services.generation.types import (
    GeneratedImage,
    GenerationRequest,
    Progress,
    ProgressCallback,
)
from app.settings import Settings

PROVIDER = "together"
LABEL = "Together AI"
KEY_ENV_VAR = "TOGETHER_API_KEY"
# One image takes seconds; a pro model at full size can take a minute.
TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
ResponseFormat = Literal["url", "base64"]


def _flux(
    name: str, display: str, *, aliases: tuple[str, ...], credits: int, note: str
) -> ModelInfo:
    return ModelInfo(
        model_id=f"black-forest-labs/{name}",
        provider=PROVIDER,
        display_name=display,
        aliases=aliases,
        key_env_var=KEY_ENV_VAR,
        vision=False,
        credits_per_call=credits,
        price_note=note,
    )


# As Together lists them (prices per megapixel when written). FLUX.2 takes JSON prompts.
BUILTIN_MODELS: tuple[ModelInfo, ...] = (
    _flux(
        "FLUX.1-schnell",
        "FLUX.1 [schnell]",
        aliases=("flux-schnell",),
        credits=1,
        note="$0.0027 / MP",
    ),
    _flux(
        "FLUX.1-schnell-Free",
        "FLUX.1 [schnell] Free",
        aliases=("flux-schnell-free",),
        credits=1,
        note="free on Together (rate-limited)",
    ),
    _flux("FLUX.1.1-pro", "FLUX1.1 [pro]", aliases=("flux-1.1-pro",), credits=4, note="$0.04 / MP"),
    _flux(
        "FLUX.1-kontext-pro",
        "FLUX.1 Kontext [pro]",
        aliases=("flux-kontext-pro",),
        credits=4,
        note="$0.04 / MP",
    ),
    _flux("FLUX.2-pro", "FLUX.2 [pro]", aliases=("flux-2-pro",), credits=3, note="$0.03 / MP"),
    _flux("FLUX.2-dev", "FLUX.2 [dev]", aliases=("flux-2-dev",), credits=2, note="$0.0154 / MP"),
    _flux("FLUX.2-flex", "FLUX.2 [flex]", aliases=("flux-2-flex",), credits=3, note="$0.03 / MP"),
)
# The pro models pick their own number of steps.
_STEPLESS = frozenset(
    {
        "black-forest-labs/FLUX.1.1-pro",
        "black-forest-labs/FLUX.1-kontext-pro",
        "black-forest-labs/FLUX.2-pro",
    }
)


@hookimpl
def register_models(register: Register, context: ProviderContext) -> None:
    """Always listed: without a key each says why it is unavailable."""
    for info in BUILTIN_MODELS:
        register(TogetherImageModel(info, settings=context.settings, retry=context.retry))


class TogetherImageModel(ImageModel):
    def __init__(
        self,
        info: ModelInfo,
        *,
        settings: Settings,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: httpx.Timeout = TIMEOUT,
        response_format: ResponseFormat = "url",
    ) -> None:
        self.info = info
        self.takes_steps = info.model_id not in _STEPLESS
        self._settings = settings
        self._retry = retry
        self._timeout = timeout
        self._response_format = response_format

    def unavailable_reason(self) -> str | None:
        return None if self._api_key() else _MISSING_KEY

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The JSON body sent for `request` (also what "What the model receives" shows)."""
        body: dict[str, Any] = {
            "model": self.info.model_id,
            "prompt": request.prompt_text(),
            "width": multiple_of_16(request.width),
            "height": multiple_of_16(request.height),
            "n": request.n,
            "response_format": self._response_format,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.steps is not None and self.takes_steps:
            body["steps"] = request.steps
        return body

    async def generate(
        self,
        request: GenerationRequest,
        *,
        client: httpx.AsyncClient | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[GeneratedImage]:
        api_key = self._api_key()
        if api_key is None:
            raise MissingKeyError(_MISSING_KEY)
        http = client if client is not None else await shared_client()
        endpoint = Endpoint(LABEL, self.info.model_id, api_key, KEY_ENV_VAR)
        started = time.monotonic()
        await report(on_progress, Progress("running"))
        answer = await request_json(
            http,
            "POST",
            self._settings.together_base_url.rstrip("/") + "/images/generations",
            endpoint=endpoint,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            body=self.payload(request),
            timeout=self._timeout,
            retry=self._retry,
        )
        items = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(items, list) or not items:
            raise InvalidOutputError(f"{LABEL} answered without any image. Try again.")
        request_id = answer.get("id") if isinstance(answer.get("id"), str) else None
        images = []
        for item in items:
            data, mime = await self._image_bytes(http, item, endpoint)
            images.append(
                GeneratedImage(
                    data=data,
                    mime_type=mime,
                    provider=PROVIDER,
                    model=self.info.model_id,
                    seed=request.seed,
                    request_id=request_id,
                    duration_seconds=time.monotonic() - started,
                )
            )
        await report(on_progress, Progress("done", request_id=request_id))
        return images

    async def _image_bytes(
        self, http: httpx.AsyncClient, item: Any, endpoint: Endpoint
    ) -> tuple[bytes, str]:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            data = decode_base64(item["b64_json"], endpoint=endpoint)
            return data, sniff_image(data, endpoint=endpoint)
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            return await download_image(
                http,
                item["url"],
                endpoint=endpoint,
                timeout=self._timeout,
                retry=self._retry,
                limit=self._settings.max_upload_bytes,
            )
        raise InvalidOutputError(f"{LABEL} answered with an image we cannot read.")

    def _api_key(self) -> str | None:
        secret = self._settings.together_api_key
        value = secret.get_secret_value().strip() if secret is not None else ""
        return value or None


def multiple_of_16(side: int) -> int:
    """Together refuses sizes that are not multiples of 16: the nearest one (at least 16)."""
    return max(16, (side + 8) // 16 * 16)  # halves round up


_MISSING_KEY = f"Set {KEY_ENV_VAR} to generate with Together AI, or pick the offline renderer."

"""OpenRouter's image models: a chat completion that answers with images.

    POST {OPENROUTER_BASE_URL}/chat/completions   Authorization: Bearer {OPENROUTER_API_KEY}
    {"model", "messages": [{"role": "user", "content": prompt}], "modalities": ["image", "text"],
     "image_config": {"aspect_ratio": "16:9"}, "seed"?}
    -> {"id", "choices": [{"message": {"images": [{"image_url": {"url": "data:image/..."}}]}}]}

One call makes one image, so `n` images are `n` calls (seeds seed, seed+1, ... when one is
set). Failures after the 200 header come as `{"error": {...}}`, as in the chat stream.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.services.analyzer.catalogue.entries import CatalogueEntry
from app.services.analyzer.providers.base import ModelInfo
from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, RetryPolicy
from app.services.analyzer.providers.plugins import ProviderContext, Register, hookimpl
from app.services.core.errors import InvalidOutputError, MissingKeyError
from app.services.core.http import shared_client
from app.services.core.http_errors import clip, error_for_chunk
from app.services.generation.providers.base import ImageModel, nearest_aspect, report
from app.services.generation.providers.transport import Endpoint, download_image, request_json
from app.services.generation.types import (
    GeneratedImage,
    GenerationRequest,
    Progress,
    ProgressCallback,
)
from app.settings import Settings

PROVIDER = "openrouter"
LABEL = "OpenRouter"
KEY_ENV_VAR = "OPENROUTER_API_KEY"
TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=30.0, pool=10.0)
# The aspect ratios OpenRouter's `image_config` takes.
ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")

BUILTIN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        model_id="google/gemini-2.5-flash-image",
        provider=PROVIDER,
        display_name="Google Gemini 2.5 Flash Image",
        aliases=("nano-banana", "gemini-image"),
        key_env_var=KEY_ENV_VAR,
        vision=False,
        credits_per_call=4,
        price_note="$0.03 / image",
    ),
    ModelInfo(
        model_id="openai/gpt-5-image-mini",
        provider=PROVIDER,
        display_name="OpenAI GPT-5 Image Mini",
        aliases=("gpt-image-mini",),
        key_env_var=KEY_ENV_VAR,
        vision=False,
        credits_per_call=4,
        price_note="$2.50 / M input tokens, $2 / M output tokens",
    ),
)


@hookimpl
def register_models(register: Register, context: ProviderContext) -> None:
    for info in BUILTIN_MODELS:
        register(OpenRouterImageModel(info, settings=context.settings, retry=context.retry))


def infos_from_catalogue(entries: list[CatalogueEntry]) -> list[ModelInfo]:
    """The catalogue's models that output images, as image-generation models."""
    return [
        ModelInfo(
            model_id=entry.model_id,
            provider=PROVIDER,
            display_name=entry.name,
            key_env_var=KEY_ENV_VAR,
            vision=False,
            price_note=f"${entry.image_usd:g} / image" if entry.image_usd else "",
        )
        for entry in entries
        if "image" in entry.output_modalities
    ]


class OpenRouterImageModel(ImageModel):
    def __init__(
        self,
        info: ModelInfo,
        *,
        settings: Settings,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.info = info
        self._settings = settings
        self._retry = retry
        self._timeout = timeout

    def unavailable_reason(self) -> str | None:
        return None if self._api_key() else _MISSING_KEY

    def payload(self, request: GenerationRequest, index: int = 0) -> dict[str, Any]:
        """The body of the `index`-th call for `request`."""
        body: dict[str, Any] = {
            "model": self.info.model_id,
            "messages": [{"role": "user", "content": request.prompt_text()}],
            "modalities": ["image", "text"],
            "image_config": {
                "aspect_ratio": nearest_aspect(request.width, request.height, ASPECTS)
            },
            "stream": False,
        }
        if request.seed is not None:
            body["seed"] = (request.seed + index) % 2**32
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
        headers = {
            "Authorization": f"Bearer {api_key}",
            "HTTP-Referer": self._settings.app_url,
            "X-Title": "JSONCraft",
        }
        url = self._settings.openrouter_base_url.rstrip("/") + "/chat/completions"
        started = time.monotonic()
        images: list[GeneratedImage] = []
        await report(on_progress, Progress("running"))
        for index in range(request.n):
            payload = self.payload(request, index)
            answer = await request_json(
                http,
                "POST",
                url,
                endpoint=endpoint,
                headers=headers,
                body=payload,
                timeout=self._timeout,
                retry=self._retry,
                check=self._raise_sent_error,
            )
            request_id = answer.get("id") if isinstance(answer, dict) else None
            for url_ in _image_urls(answer):
                data, mime = await download_image(
                    http,
                    url_,
                    endpoint=endpoint,
                    timeout=self._timeout,
                    retry=self._retry,
                    limit=self._settings.max_upload_bytes,
                )
                images.append(
                    GeneratedImage(
                        data=data,
                        mime_type=mime,
                        provider=PROVIDER,
                        model=self.info.model_id,
                        seed=payload.get("seed"),
                        request_id=request_id if isinstance(request_id, str) else None,
                        duration_seconds=time.monotonic() - started,
                    )
                )
        await report(on_progress, Progress("done"))
        return images

    def _raise_sent_error(self, answer: Any) -> None:
        """OpenRouter reports a failed upstream call as `{"error": {...}}` in a 200 answer;
        a retryable one (5xx code) is tried again like an HTTP 5xx."""
        if isinstance(answer, dict) and answer.get("error"):
            raise error_for_chunk(
                answer["error"], label=LABEL, model=self.info.model_id, api_key=self._api_key()
            )

    def _api_key(self) -> str | None:
        secret = self._settings.openrouter_api_key
        value = secret.get_secret_value().strip() if secret is not None else ""
        return value or None


def _image_urls(answer: Any) -> list[str]:
    try:
        message = answer["choices"][0]["message"]
    except (KeyError, IndexError, TypeError) as e:
        raise InvalidOutputError(f"{LABEL} answered in a shape we cannot read.") from e
    urls = [
        image["image_url"]["url"]
        for image in (message.get("images") or [])
        if isinstance(image, dict)
        and isinstance(image.get("image_url"), dict)
        and isinstance(image["image_url"].get("url"), str)
    ]
    if not urls:
        said = message.get("content") if isinstance(message.get("content"), str) else ""
        why = f' It said: "{clip(said, None)}"' if said.strip() else ""
        raise InvalidOutputError(
            f"{LABEL}'s model answered without an image.{why} Try again or reword the prompt."
        )
    return urls


_MISSING_KEY = f"Set {KEY_ENV_VAR} to generate with OpenRouter, or pick another model."

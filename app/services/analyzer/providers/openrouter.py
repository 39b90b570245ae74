"""OpenRouter: one key, many vendors' models, reasoning streamed beside the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import httpx

from app.services.analyzer.providers.base import ChatRequest, Model, ModelInfo, StreamEvent
from app.services.analyzer.providers.openai_chat import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    RetryPolicy,
    stream_chat_completion,
)
from app.services.analyzer.providers.options import OpenRouterOptions
from app.services.analyzer.providers.plugins import ProviderContext, Register, hookimpl
from app.services.core.errors import MissingKeyError
from app.settings import Settings

PROVIDER = "openrouter"
KEY_ENV_VAR = "OPENROUTER_API_KEY"
DEFAULT_MODEL_ID = "nvidia/nemotron-nano-12b-v2-vl:free"

# The models offered out of the box, before (and beside) OpenRouter's catalogue: a fresh or
# offline install offers exactly these. Edit this table to change them; prices are
# OpenRouter's list prices when written.
# Any other model OpenRouter lists works once the catalogue is refreshed (analyzer/catalogue).
BUILTIN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        model_id=DEFAULT_MODEL_ID,
        provider=PROVIDER,
        display_name="NVIDIA Nemotron Nano 12B 2 VL (free)",
        aliases=("nemotron", "nemotron-vl"),
        key_env_var=KEY_ENV_VAR,
        reasoning=True,
        credits_per_call=1,
        price_note="free on OpenRouter (rate-limited)",
        description="A small open vision-language model that reasons before answering.",
    ),
    ModelInfo(
        model_id="google/gemini-2.5-flash",
        provider=PROVIDER,
        display_name="Google Gemini 2.5 Flash",
        aliases=("gemini", "gemini-flash"),
        key_env_var=KEY_ENV_VAR,
        reasoning=True,
        credits_per_call=3,
        price_note="$0.30 / M input tokens, $2.50 / M output tokens",
        description="Fast, strong at reading images and following a schema.",
        structured_outputs=True,
    ),
    ModelInfo(
        model_id="openai/gpt-4o-mini",
        provider=PROVIDER,
        display_name="OpenAI GPT-4o mini",
        aliases=("gpt-4o-mini", "4o-mini"),
        key_env_var=KEY_ENV_VAR,
        credits_per_call=2,
        price_note="$0.15 / M input tokens, $0.60 / M output tokens",
        description="Cheap and reliable JSON; no visible reasoning.",
        structured_outputs=True,
    ),
)


@hookimpl
def register_models(register: Register, context: ProviderContext) -> None:
    """Always listed: without a key each says why it is unavailable, for the picker."""
    for info in BUILTIN_MODELS:
        register(
            OpenRouterModel(
                info, settings=context.settings, timeout=context.timeout, retry=context.retry
            )
        )


class OpenRouterModel(Model):
    Options = OpenRouterOptions

    def __init__(
        self,
        info: ModelInfo,
        *,
        settings: Settings,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.info = info
        self._settings = settings
        self._timeout = timeout
        self._retry = retry

    def unavailable_reason(self) -> str | None:
        return None if self._api_key() else _MISSING_KEY

    async def stream(
        self, request: ChatRequest, *, client: httpx.AsyncClient | None = None
    ) -> AsyncIterator[StreamEvent]:
        # Parsed by its `Options` class.
        options = cast(OpenRouterOptions, self.check_request(request))
        api_key = self._api_key()
        if api_key is None:
            raise MissingKeyError(_MISSING_KEY)
        events = stream_chat_completion(
            client=client,
            base_url=self._settings.openrouter_base_url,
            api_key=api_key,
            model=self.info.model_id,
            request=request,
            # OpenRouter's app attribution headers (optional, shown on their leaderboards).
            extra_headers={"HTTP-Referer": self._settings.app_url, "X-Title": "JSONCraft"},
            timeout=self._timeout,
            dialect="openrouter",
            extra_body={"reasoning": {"enabled": True}} if self.info.reasoning else None,
            retry=self._retry,
            provider_label="OpenRouter",
            key_env_var=KEY_ENV_VAR,
            structured_outputs=self.info.structured_outputs,
            options=options,
        )
        async for event in events:
            yield event

    def _api_key(self) -> str | None:
        secret = self._settings.openrouter_api_key
        value = secret.get_secret_value().strip() if secret is not None else ""
        return value or None


_MISSING_KEY = f"Set {KEY_ENV_VAR} or pick the offline model."

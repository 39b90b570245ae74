"""Any OpenAI-style endpoint: OpenAI itself, Ollama, LM Studio, vLLM.

Models are registered as `openai-compatible/<name>` so they never clash with an OpenRouter
id, and `<name>` (what the endpoint expects) becomes an alias. Local servers usually need
no key, so one is sent only when OPENAI_COMPATIBLE_API_KEY is set.
"""

from __future__ import annotations

import dataclasses
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
from app.services.analyzer.providers.options import OpenAICompatibleOptions
from app.services.analyzer.providers.plugins import ProviderContext, Register, hookimpl
from app.services.core.errors import ConfigurationError
from app.settings import Settings

PROVIDER = "openai-compatible"
KEY_ENV_VAR = "OPENAI_COMPATIBLE_API_KEY"


def model_info(name: str, *, credits_per_call: int = 1) -> ModelInfo:
    """Registry entry for a model the endpoint serves under `name` (e.g. "qwen2.5vl:7b")."""
    return ModelInfo(
        model_id=f"{PROVIDER}/{name}",
        provider=PROVIDER,
        display_name=f"{name} (OpenAI-compatible endpoint)",
        aliases=(name,),
        needs_key=False,
        key_env_var=KEY_ENV_VAR,
        credits_per_call=credits_per_call,
        description="Served by the endpoint set in OPENAI_COMPATIBLE_BASE_URL.",
    )


def parse_model_names(value: str) -> list[str]:
    """`"llava:13b, gpt-4o-mini,,"` -> `["llava:13b", "gpt-4o-mini"]`, duplicates dropped."""
    return list(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))


@hookimpl
def register_models(register: Register, context: ProviderContext) -> None:
    """The models named in OPENAI_COMPATIBLE_MODELS, when OPENAI_COMPATIBLE_BASE_URL is set."""
    settings = context.settings
    if not settings.openai_compatible_base_url:
        return
    for name in parse_model_names(settings.openai_compatible_models):
        info = model_info(name)
        # A bare name like "gpt-4o-mini" may already be an OpenRouter alias; keep that one.
        aliases = tuple(a for a in info.aliases if register.owner(a) in (None, info.model_id))
        register(
            OpenAICompatibleModel(
                dataclasses.replace(info, aliases=aliases),
                api_model=name,
                settings=settings,
                timeout=context.timeout,
                retry=context.retry,
            )
        )


class OpenAICompatibleModel(Model):
    Options = OpenAICompatibleOptions

    def __init__(
        self,
        info: ModelInfo,
        *,
        api_model: str,
        settings: Settings,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.info = info
        self.api_model = api_model
        self._settings = settings
        self._timeout = timeout
        self._retry = retry

    def unavailable_reason(self) -> str | None:
        if not self._settings.openai_compatible_base_url:
            return "Set OPENAI_COMPATIBLE_BASE_URL or pick another model."
        return None

    async def stream(
        self, request: ChatRequest, *, client: httpx.AsyncClient | None = None
    ) -> AsyncIterator[StreamEvent]:
        # Parsed by its `Options` class.
        options = cast(OpenAICompatibleOptions, self.check_request(request))
        base_url = self._settings.openai_compatible_base_url
        if not base_url:
            # Registered only when the URL is set, so this is a configuration slip.
            raise ConfigurationError("OPENAI_COMPATIBLE_BASE_URL is not set")
        secret = self._settings.openai_compatible_api_key
        api_key = secret.get_secret_value().strip() if secret is not None else ""
        events = stream_chat_completion(
            client=client,
            base_url=base_url,
            api_key=api_key or None,
            model=self.api_model,
            request=request,
            timeout=self._timeout,
            dialect="openai",
            retry=self._retry,
            provider_label="The OpenAI-compatible endpoint",
            key_env_var=KEY_ENV_VAR,
            options=options,
        )
        async for event in events:
            yield event

"""Every model the app can call, found by id or alias.

Providers register models through `register()`; `load_builtin_models()` is the hook that
registers the remote ones from settings, and the offline analyzer registers itself the same
way. Tests build their own `ModelRegistry` (or `clear()` the default one) and register fakes
through the very same calls.

Beyond the registered models, a registry asks its sources (`add_source`) for names it does
not know: the provider catalogues (any model OpenRouter lists) are one, so hundreds of models
work without hundreds of registrations. Registered models win over a source's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import httpx

from app.services.analyzer.catalogue.ids import closest, openrouter_id
from app.services.analyzer.providers import openai_compatible, openrouter
from app.services.analyzer.providers.base import Model, ModelInfo
from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, DEFAULT_TIMEOUT, RetryPolicy
from app.services.core.errors import UnknownModelError
from app.settings import Settings

# How many model ids an "unknown model" message spells out.
_LISTED = 12
_CLOSEST = 5


class ModelSource(Protocol):
    """Models found on demand by name (a provider's catalogue), not registered one by one."""

    def find(self, name: str) -> Model | None:
        """The model `name` stands for, or None."""

    def names(self) -> list[str]:
        """Every id it would find, for "did you mean" suggestions."""


class ModelRegistry:
    def __init__(self) -> None:
        self._models: dict[str, Model] = {}  # by model_id, in registration order
        self._names: dict[str, str] = {}  # casefolded id or alias -> model_id
        self._sources: dict[str, ModelSource] = {}

    def register(self, model: Model, *, replace: bool = False) -> None:
        """Add a model. A clash of id or alias is a programming error unless `replace`,
        in which case the newcomer wins the id and every alias it asks for."""
        info = model.info
        names = [info.model_id, *info.aliases]
        clashes = {self._names[n.casefold()] for n in names if n.casefold() in self._names}
        if clashes and not replace:
            raise ValueError(
                f"cannot register {info.model_id}: its id or aliases are taken by "
                f"{', '.join(sorted(clashes))} (pass replace=True to override)"
            )
        self.unregister(info.model_id)
        for name in names:
            self._names[name.casefold()] = info.model_id
        self._models[info.model_id] = model

    def unregister(self, model_id: str) -> None:
        self._models.pop(model_id, None)
        self._names = {name: mid for name, mid in self._names.items() if mid != model_id}

    def add_source(self, key: str, source: ModelSource) -> None:
        """Ask `source` for names no registered model answers to (same key: replaced)."""
        self._sources[key] = source

    def resolve(self, name: str) -> str | None:
        """The registered model_id that `name` (an id or alias, any case, with or without an
        "openrouter/" or "openrouter:" prefix) stands for, if any."""
        folded = name.strip().casefold()
        return self._names.get(folded) or self._names.get(openrouter_id(folded))

    def get_model(self, name: str) -> Model:
        """A registered model, else one a source finds; UnknownModelError names the closest."""
        model_id = self.resolve(name)
        if model_id is not None:
            return self._models[model_id]
        if name.strip() and len(name) <= 300:
            for source in self._sources.values():
                found = source.find(name)
                if found is not None:
                    return found
        raise UnknownModelError(self._unknown_message(name))

    def list_models(self, *, available_only: bool = False) -> list[ModelInfo]:
        return [m.info for m in self._models.values() if not available_only or m.is_available()]

    def models(self) -> list[Model]:
        """The registered models in registration order (the picker says why one is unavailable)."""
        return list(self._models.values())

    def clear(self) -> None:
        self._models.clear()
        self._names.clear()
        self._sources.clear()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    def __len__(self) -> int:
        return len(self._models)

    def _unknown_message(self, name: str) -> str:
        shown = " ".join(name.split())
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        ids = list(self._models)
        for source in self._sources.values():
            ids.extend(source.names())
        if not ids:
            return f"Unknown model '{shown}'. No models are set up."
        near = closest(name, ids, limit=_CLOSEST)
        if near:
            return f"Unknown model '{shown}'. Did you mean: {', '.join(near)}?"
        more = f", and {len(ids) - _LISTED} more" if len(ids) > _LISTED else ""
        return f"Unknown model '{shown}'. Choose one of: {', '.join(ids[:_LISTED])}{more}."


_default_registry = ModelRegistry()


def get_registry() -> ModelRegistry:
    """The process-wide registry the app uses."""
    return _default_registry


def reset_registry() -> None:
    """Empty the process-wide registry (tests, and reloading settings)."""
    _default_registry.clear()


def load_builtin_models(
    settings: Settings,
    *,
    registry: ModelRegistry | None = None,
    openrouter_models: Sequence[ModelInfo] | None = None,
    openai_compatible_models: Sequence[str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> ModelRegistry:
    """Register the remote models. Safe to call again: entries are replaced, not doubled.

    OpenRouter models are always listed (without a key they report why they are unavailable,
    so the picker can say so); the OpenAI-compatible endpoint's models only when its base URL
    is set. Model names default to `settings.openai_compatible_models` (comma-separated).
    """
    target = registry if registry is not None else _default_registry
    for info in openrouter_models if openrouter_models is not None else openrouter.BUILTIN_MODELS:
        target.register(
            openrouter.OpenRouterModel(info, settings=settings, timeout=timeout, retry=retry),
            replace=True,
        )
    if settings.openai_compatible_base_url:
        names = (
            list(openai_compatible_models)
            if openai_compatible_models is not None
            else openai_compatible.parse_model_names(settings.openai_compatible_models)
        )
        for name in names:
            info = openai_compatible.model_info(name)
            # A bare name like "gpt-4o-mini" may already be an OpenRouter alias; keep that one.
            aliases = tuple(a for a in info.aliases if target.resolve(a) in (None, info.model_id))
            target.register(
                openai_compatible.OpenAICompatibleModel(
                    dataclasses.replace(info, aliases=aliases),
                    api_model=name,
                    settings=settings,
                    timeout=timeout,
                    retry=retry,
                ),
                replace=True,
            )
    return target

"""The registry source for catalogue models: a listed id becomes a callable Model on demand.

Nothing is registered per model (the catalogue has hundreds, and changes with every refresh):
each lookup reads the cached row and builds the model from it, so a refresh or an admin's
choice takes effect at the next call, in every process.
"""

from __future__ import annotations

from app.services.analyzer.catalogue import store
from app.services.analyzer.catalogue.entries import (
    OPENAI_COMPATIBLE,
    OPENROUTER,
    STRUCTURED_PARAMETERS,
)
from app.services.analyzer.catalogue.ids import openrouter_id
from app.services.analyzer.providers import openai_compatible, openrouter
from app.services.analyzer.providers.base import Model, ModelInfo
from app.services.billing import pricing
from app.services.core.db import session_scope
from app.services.core.models import CatalogueModel
from app.settings import Settings

_COMPATIBLE_PREFIX = f"{OPENAI_COMPATIBLE}/"


def openrouter_info(row: CatalogueModel) -> ModelInfo:
    params = set(row.supported_parameters)
    usd = pricing.estimate_usd(
        prompt_usd=row.prompt_usd,
        completion_usd=row.completion_usd,
        image_usd=row.image_usd,
        request_usd=row.request_usd,
    )
    return ModelInfo(
        model_id=row.model_id,
        provider=openrouter.PROVIDER,
        display_name=row.name or row.model_id,
        key_env_var=openrouter.KEY_ENV_VAR,
        vision=row.vision,
        reasoning="reasoning" in params,
        price_note=price_note(row),
        description=_description(row),
        structured_outputs="structured_outputs" in params,
        usd_per_call=usd,
        context_length=row.context_length,
    )


def price_note(row: CatalogueModel) -> str:
    if row.prompt_usd is None or row.completion_usd is None:
        return "no list price in the catalogue"
    if row.prompt_usd == 0 and row.completion_usd == 0 and not row.image_usd:
        return "free on OpenRouter (rate-limited)"
    return (
        f"${row.prompt_usd * 1e6:.2f} / M input tokens, "
        f"${row.completion_usd * 1e6:.2f} / M output tokens"
    )


def _description(row: CatalogueModel) -> str:
    parts = ["From OpenRouter's catalogue"]
    if row.context_length:
        parts.append(f"{row.context_length:,} tokens of context")
    if STRUCTURED_PARAMETERS & set(row.supported_parameters):
        parts.append("structured output")
    return " · ".join(parts) + "."


class CatalogueSource:
    """`ModelRegistry.add_source` target: finds OpenRouter ids in any accepted spelling, and
    the OpenAI-compatible endpoint's ids as `openai-compatible/<id>` or bare."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def find(self, name: str) -> Model | None:
        name = name.strip()
        with session_scope() as session:
            if not name.casefold().startswith(_COMPATIBLE_PREFIX):
                row = store.find(session, source=OPENROUTER, model_id=openrouter_id(name))
                if row is not None:
                    return openrouter.OpenRouterModel(openrouter_info(row), settings=self._settings)
            if not self._settings.openai_compatible_base_url:
                return None
            api_name = (
                name[len(_COMPATIBLE_PREFIX) :]
                if name.casefold().startswith(_COMPATIBLE_PREFIX)
                else name
            )
            row = store.find(session, source=OPENAI_COMPATIBLE, model_id=api_name)
            if row is None:
                return None
            return openai_compatible.OpenAICompatibleModel(
                openai_compatible.model_info(row.model_id),
                api_model=row.model_id,
                settings=self._settings,
            )

    def names(self) -> list[str]:
        with session_scope() as session:
            names = store.listed_ids(session, source=OPENROUTER)
            if self._settings.openai_compatible_base_url:
                names += [
                    f"{_COMPATIBLE_PREFIX}{n}"
                    for n in store.listed_ids(session, source=OPENAI_COMPATIBLE)
                ]
            return names

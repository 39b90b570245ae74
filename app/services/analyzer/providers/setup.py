"""Register every model the app offers: the offline analyzer first, then the remote ones,
then the provider catalogues (any model OpenRouter lists) as a source asked by name."""

from __future__ import annotations

from app.services.analyzer.providers.local import LOCAL_MODEL_ID, LocalModel
from app.services.analyzer.providers.registry import (
    ModelRegistry,
    get_registry,
    load_builtin_models,
)
from app.settings import Settings, get_settings


def ensure_models(settings: Settings | None = None) -> ModelRegistry:
    """Idempotent: safe to call from the app, the API, the CLI and tests."""
    from app.services.analyzer.catalogue.lookup import CatalogueSource

    settings = settings or get_settings()
    registry = get_registry()
    if LOCAL_MODEL_ID not in registry:
        registry.register(LocalModel())
    load_builtin_models(settings, registry=registry)
    registry.add_source("catalogue", CatalogueSource(settings))
    return registry

"""Register every model the app offers: the built-in plugins (the offline analyzer first,
then the remote providers), installed third-party plugins, then the provider catalogues (any
model OpenRouter lists) as a source asked by name."""

from __future__ import annotations

from app.services.analyzer.providers.plugins import ProviderContext, load_models
from app.services.analyzer.providers.registry import ModelRegistry, get_registry
from app.settings import Settings, get_settings


def ensure_models(settings: Settings | None = None) -> ModelRegistry:
    """Idempotent: safe to call from the app, the API, the CLI and tests."""
    from app.services.analyzer.catalogue.lookup import CatalogueSource

    settings = settings or get_settings()
    registry = load_models(ProviderContext(settings), registry=get_registry(), entry_points=True)
    registry.add_source("catalogue", CatalogueSource(settings))
    return registry

"""Register every model the app offers: the offline analyzer first, then the remote ones."""

from __future__ import annotations

from app.services.providers.local import LOCAL_MODEL_ID, LocalModel
from app.services.providers.registry import ModelRegistry, get_registry, load_builtin_models
from app.settings import Settings, get_settings


def ensure_models(settings: Settings | None = None) -> ModelRegistry:
    """Idempotent: safe to call from the app, the API, the CLI and tests."""
    registry = get_registry()
    if LOCAL_MODEL_ID not in registry:
        registry.register(LocalModel())
    load_builtin_models(settings or get_settings(), registry=registry)
    return registry

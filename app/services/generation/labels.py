"""What people read for a model id: "FLUX.1 [schnell]" for `black-forest-labs/FLUX.1-schnell`.

The offline renderer is a layout preview, never a generative model, and is named so everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.services.analyzer.providers.base import ANALYSIS
from app.services.analyzer.providers.registry import ModelRegistry
from app.services.analyzer.providers.setup import ensure_models
from app.services.core.logs import get_logger
from app.services.generation.providers.base import IMAGE_GENERATION
from app.services.generation.render import OFFLINE_MODEL_ID

LAYOUT_PREVIEW = "Layout preview"

log = get_logger("generation")


def _registry() -> ModelRegistry | None:
    """The registry, or None when a provider plugin fails to load: names are a nicety, and
    the gallery must still list prompts (by their model ids) when they can't be had."""
    try:
        return ensure_models()
    except Exception:
        log.exception("model names unavailable")
        return None


def model_labels(model_ids: Iterable[str]) -> dict[str, str]:
    """Display names for these ids: registered models by their name, others as they are."""
    wanted = {m for m in model_ids if m}
    if not wanted:
        return {}
    known: dict[str, str] = {}
    registry = _registry()
    # Only registered models: a catalogue source would query a provider's list per name.
    for kind in (ANALYSIS, IMAGE_GENERATION):
        for info in registry.list_models(kind=kind) if registry is not None else []:
            known.setdefault(info.model_id.casefold(), info.display_name)
    known[OFFLINE_MODEL_ID.casefold()] = LAYOUT_PREVIEW
    return {m: known.get(m.casefold(), m) for m in wanted}


def known_models() -> list[tuple[str, str]]:
    """(id, display name) of every model that analyses or makes images, for filter pickers:
    the image models first (the offline layout preview leading), then the analysers."""
    registry = _registry()
    out = [(OFFLINE_MODEL_ID, LAYOUT_PREVIEW)]
    for kind in (IMAGE_GENERATION, ANALYSIS):
        infos = registry.list_models(kind=kind) if registry is not None else []
        out += [(info.model_id, info.display_name) for info in infos]
    return list(dict(out).items())


def model_label(model_id: str) -> str:
    return model_labels([model_id]).get(model_id, model_id)

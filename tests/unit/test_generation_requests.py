"""The shared generation request, and image models beside analysis models in one registry."""

from __future__ import annotations

import pytest

from app.services.analyzer.providers.base import Model
from app.services.analyzer.providers.plugins import load_builtin_models
from app.services.analyzer.providers.registry import ModelRegistry
from app.services.core.errors import InvalidInputError, UnknownModelError
from app.services.generation.providers.base import IMAGE_GENERATION, ImageModel
from app.services.generation.providers.fal import FalImageModel
from app.services.generation.providers.together import TogetherImageModel
from app.services.generation.types import GenerationRequest
from app.settings import get_settings


def make(**kwargs: object) -> GenerationRequest:
    fields: dict[str, object] = {"model_id": "fal-ai/flux/dev", "prompt": "a boat"}
    return GenerationRequest(**(fields | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"prompt": "   "}, "The prompt is empty"),
        ({"prompt": {}}, "The prompt is empty"),
        ({"width": 0}, "width must be from 64 to 2048 pixels, not 0"),
        ({"height": 100_000}, "height must be from 64 to 2048"),
        ({"width": 512.5}, "width must be a whole number"),
        ({"width": True}, "width must be a whole number"),
        ({"n": 0}, "Ask for 1 to 4 images"),
        ({"n": 5}, "Ask for 1 to 4 images"),
        ({"seed": -1}, "seed must be a whole number from 0"),
        ({"seed": 2**32}, "seed must be a whole number from 0"),
        ({"steps": 0}, "Steps must be"),
        ({"guidance": -1.0}, "Guidance must be"),
        ({"guidance": float("nan")}, "Guidance must be"),
        ({"guidance": "3.5"}, "Guidance must be"),
        ({"seed": "42"}, "seed must be a whole number"),
        ({"steps": 4.0}, "Steps must be"),
    ],
)
def test_bad_requests_are_refused_with_what_to_fix(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make(**fields)


def test_prompt_text_keeps_json_prompts_as_json() -> None:
    assert make(prompt={"scene": "café"}).prompt_text() == '{"scene": "café"}'
    assert make(prompt="prose").prompt_text() == "prose"


def test_image_models_are_listed_beside_analysis_models_in_their_own_kind() -> None:
    registry = load_builtin_models(get_settings(), registry=ModelRegistry())

    image_ids = [m.info.model_id for m in registry.models(ImageModel)]
    assert image_ids[:7] == [
        "black-forest-labs/FLUX.1-schnell", "black-forest-labs/FLUX.1-schnell-Free",
        "black-forest-labs/FLUX.1.1-pro", "black-forest-labs/FLUX.1-kontext-pro",
        "black-forest-labs/FLUX.2-pro", "black-forest-labs/FLUX.2-dev",
        "black-forest-labs/FLUX.2-flex",
    ]  # fmt: skip
    assert {"fal-ai/flux/schnell", "fal-ai/flux/dev", "fal-ai/flux-pro/v1.1",
            "fal-ai/flux-pro/v1.1-ultra", "fal-ai/flux-lora",
            "google/gemini-2.5-flash-image"} <= set(image_ids)  # fmt: skip
    analysis_ids = {m.model_id for m in registry.list_models()}
    assert analysis_ids and not analysis_ids & set(image_ids)
    assert [m.model_id for m in registry.list_models(kind=IMAGE_GENERATION)] == image_ids

    assert isinstance(registry.get_model("flux-schnell", ImageModel), TogetherImageModel)
    assert isinstance(registry.get_model("FAL-AI/FLUX/DEV", ImageModel), FalImageModel)
    with pytest.raises(UnknownModelError):
        registry.get_model("flux-schnell", Model)  # not an analysis model
    # No keys set: each says which one it needs, for the picker.
    reasons = {m.unavailable_reason() for m in registry.models(ImageModel)}
    assert all(r and ("_KEY" in r) for r in reasons)

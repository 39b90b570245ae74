"""What a generation will send, decided before any call: the one planner of queued runs
(runs.start_generation) and the operator's direct runs (direct.plan_images).

    chosen = choose_model("flux-schnell")
    plan = plan_generation(prompt, model=chosen, n=2, seed=7, aspect="16:9", preset="noir")

The preset and aspect ratio are applied by presets.preview_style, the size comes from
sizes.size_for, the prompt is rendered per model by render.render_for_model, and the seeds are
fixed here, so a random seed is still reproducible.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.services.core.errors import InvalidInputError, MissingKeyError
from app.services.generation.image_maker import OFFLINE_PROVIDER, image_model
from app.services.generation.presets import preview_style
from app.services.generation.render import (
    OFFLINE_MODEL_ID,
    RenderedPrompt,
    clean_model_id,
    render_for_model,
)
from app.services.generation.sizes import aspect_label, size_for
from app.services.generation.types import MAX_IMAGES, GenerationRequest

SEED_LIMIT = 2**32


@dataclass(frozen=True)
class ChosenModel:
    """A usable image model and what pricing and the request need to know about it."""

    model_id: str
    provider: str
    takes_steps: bool
    takes_guidance: bool
    default_credits: int
    usd_per_call: float | None


@dataclass(frozen=True)
class GenerationPlan:
    """Everything decided before the first call: what is sent, at what size, with which seeds."""

    model: ChosenModel
    prompt: dict[str, Any]  # the JSON prompt with the preset and aspect ratio applied
    preset: str | None  # the preset's id, as recorded
    rendered: RenderedPrompt
    width: int
    height: int
    aspect: str
    steps: int | None  # as sent: None where the model takes none
    guidance: float | None
    seeds: tuple[int, ...]


def choose_model(model: object) -> ChosenModel:
    """The registered model `model` names (an id or alias). Raises InvalidInputError (blank or
    malformed), UnknownModelError, or MissingKeyError (no key for its provider)."""
    model_id = clean_model_id(model)
    if model_id == OFFLINE_MODEL_ID:
        return ChosenModel(OFFLINE_MODEL_ID, OFFLINE_PROVIDER, False, False, 0, None)
    found = image_model(model_id)
    reason = found.unavailable_reason()
    if reason is not None:
        raise MissingKeyError(reason)
    info = found.info
    return ChosenModel(info.model_id, info.provider, found.takes_steps, found.takes_guidance,
                       info.credits_per_call, info.usd_per_call)  # fmt: skip


def image_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
        raise InvalidInputError(
            f"Ask for 1 to {MAX_IMAGES} images at a time; run a batch for more."
        )
    return n


def plan_generation(
    prompt: object,
    *,
    model: ChosenModel,
    n: object = 1,
    seed: object = None,
    aspect: object = "1:1",
    preset: object = None,
    steps: object = None,
    guidance: object = None,
) -> GenerationPlan:
    """Check everything and decide what each call sends. Raises PromptValidationError (the
    prompt, with the preset applied, breaks the schema) or InvalidInputError (a prompt that is
    not an object, a bad count, seed, aspect ratio, preset, steps or guidance)."""
    if not isinstance(prompt, Mapping):
        raise InvalidInputError("The prompt must be a JSON object, like the editor shows.")
    count = image_count(n)
    if not isinstance(aspect, str):
        raise InvalidInputError("Choose an aspect ratio like 16:9.")
    aspect_text = aspect_label(aspect)
    styled = preview_style(prompt, _preset(preset), aspect=aspect_text)
    size = size_for(aspect_text, model_id=model.model_id)
    rendered = render_for_model(styled.prompt, model.model_id)
    # The request's own checks cover seed, steps and guidance, with the messages people see;
    # values a model ignores are checked too, and recorded only where they are sent.
    GenerationRequest(model_id=model.model_id, prompt=rendered.text, width=size.width,
                      height=size.height, seed=seed, steps=steps,  # type: ignore[arg-type]
                      guidance=guidance)  # type: ignore[arg-type]  # fmt: skip
    return GenerationPlan(
        model=model,
        prompt=styled.prompt,
        preset=styled.preset_id,
        rendered=rendered,
        width=size.width,
        height=size.height,
        aspect=size.aspect,
        steps=steps if model.takes_steps else None,  # type: ignore[arg-type]
        guidance=guidance if model.takes_guidance else None,  # type: ignore[arg-type]
        seeds=tuple(_seeds(seed, count)),
    )


def _preset(preset: object) -> str | None:
    if preset is None or (isinstance(preset, str) and not preset.strip()):
        return None
    if not isinstance(preset, str):
        raise InvalidInputError("Choose a style preset by its name, or none.")
    return preset


def _seeds(seed: object, count: int) -> list[int]:
    """One seed per image: consecutive from a fixed seed, else random; kept either way."""
    if isinstance(seed, int) and not isinstance(seed, bool):
        return [(seed + i) % SEED_LIMIT for i in range(count)]
    return [secrets.randbelow(SEED_LIMIT) for _ in range(count)]

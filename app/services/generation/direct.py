"""Generate on the spot, with no queue and no credits: the operator's command line.

    plan = plan_images(prompt, model="flux-schnell", n=2, seed=7, aspect="16:9", preset="noir")
    for made in make_images(plan):
        path.write_bytes(made.data)          # the parameters are embedded in the file

It takes the same path as a queued run (runs.start_generation, then run_worker): the preset
and aspect ratio are applied by presets.preview_style, the size comes from sizes.size_for, the
prompt is rendered per model by render.render_for_model, each image is made by
image_maker.make_image and carries its parameters through metadata.embed. Only the
bookkeeping is left out (no rows, no reservations), which is why this is for operators, like
`jsoncraft analyze`, and never reachable from the web.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError, MissingKeyError, NotFoundError
from app.services.core.models import Prompt, PromptVersion
from app.services.generation.image_maker import OFFLINE_PROVIDER, image_model, make_image
from app.services.generation.metadata import GenerationMetadata, embed
from app.services.generation.presets import preview_style
from app.services.generation.render import OFFLINE_MODEL_ID, clean_model_id, render_for_model
from app.services.generation.sizes import aspect_label, size_for
from app.services.generation.types import MAX_IMAGES, GenerationRequest

SEED_LIMIT = 2**32


@dataclass(frozen=True)
class SavedSource:
    """A saved prompt's JSON at its current version, and where it came from."""

    data: dict[str, Any]
    prompt_id: int
    version: int


@dataclass(frozen=True)
class DirectPlan:
    """Everything decided before the first call: what is sent, at what size, with which seeds."""

    model_id: str
    provider: str
    prompt_format: Literal["text", "json"]
    prompt_sent: str
    negative: str | None
    width: int
    height: int
    preset: str | None
    steps: int | None
    guidance: float | None
    seeds: tuple[int, ...]
    prompt_id: int | None = None
    prompt_version: int | None = None


@dataclass(frozen=True)
class MadeFile:
    """One image's file, its parameters embedded, and those parameters."""

    data: bytes
    mime_type: str
    metadata: GenerationMetadata
    duration_seconds: float


def saved_prompt(session: Session, *, prompt_id: int) -> SavedSource:
    """The current version of saved prompt `prompt_id`, whoever owns it (operators only).
    NotFoundError if there is none, or it is in the trash."""
    prompt = session.get(Prompt, prompt_id)
    if prompt is None:
        raise NotFoundError(f"There is no saved prompt with id {prompt_id}.")
    if prompt.deleted_at is not None:
        raise NotFoundError(f"Prompt {prompt_id} is in the trash: restore it to generate from it.")
    version = session.exec(
        select(PromptVersion).where(
            col(PromptVersion.prompt_id) == prompt_id,
            col(PromptVersion.id) == (prompt.current_version_id or 0),
        )
    ).first()
    if version is None:
        raise NotFoundError(f"Prompt {prompt_id} has no saved version to generate from.")
    return SavedSource(dict(version.data), prompt_id, version.number)


def plan_images(
    prompt: object,
    *,
    model: object,
    n: object = 1,
    seed: object = None,
    aspect: object = "1:1",
    preset: object = None,
    steps: object = None,
    guidance: object = None,
    source: SavedSource | None = None,
) -> DirectPlan:
    """Check everything and decide what each call sends, before any call is made.

    Raises UnknownModelError, MissingKeyError (no key for the model's provider),
    PromptValidationError (the prompt, with the preset applied, breaks the schema) or
    InvalidInputError (a bad count, seed, aspect ratio, preset, steps or guidance)."""
    if not isinstance(prompt, Mapping):
        raise InvalidInputError("The prompt must be a JSON object, like the editor shows.")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
        raise InvalidInputError(f"Ask for 1 to {MAX_IMAGES} images at a time.")
    model_id, provider, takes_steps, takes_guidance = _resolve(model)
    if not isinstance(aspect, str):
        raise InvalidInputError("Choose an aspect ratio like 16:9.")
    aspect_text = aspect_label(aspect)
    chosen_preset = preset if isinstance(preset, str) and preset.strip() else None
    styled = preview_style(prompt, chosen_preset, aspect=aspect_text)
    size = size_for(aspect_text, model_id=model_id)
    rendered = render_for_model(styled.prompt, model_id)
    # The request's own checks cover seed, steps and guidance, with the messages people see.
    GenerationRequest(model_id=model_id, prompt=rendered.text, width=size.width,
                      height=size.height, seed=seed, steps=steps,  # type: ignore[arg-type]
                      guidance=guidance)  # type: ignore[arg-type]  # fmt: skip
    return DirectPlan(
        model_id=model_id,
        provider=provider,
        prompt_format=rendered.prompt_format,
        prompt_sent=rendered.text,
        negative=rendered.negative,
        width=size.width,
        height=size.height,
        preset=styled.preset_id,
        steps=steps if takes_steps else None,  # type: ignore[arg-type]
        guidance=guidance if takes_guidance else None,  # type: ignore[arg-type]
        seeds=tuple(_seeds(seed, n)),
        prompt_id=source.prompt_id if source else None,
        prompt_version=source.version if source else None,
    )


def make_images(plan: DirectPlan) -> Iterator[MadeFile]:
    """Each image of `plan` in turn, as soon as it is made (so a caller can save it before the
    next call); a provider failure raises its ProviderError and stops there."""
    for seed in plan.seeds:
        made = make_image(
            model_id=plan.model_id,
            prompt_format=plan.prompt_format,
            prompt_sent=plan.prompt_sent,
            width=plan.width,
            height=plan.height,
            seed=seed,
            steps=plan.steps,
            guidance=plan.guidance,
            negative=plan.negative,
        )
        metadata = GenerationMetadata(
            provider=made.provider,
            model=plan.model_id,
            width=plan.width,
            height=plan.height,
            prompt_format=plan.prompt_format,
            prompt_sent=plan.prompt_sent,
            seed=made.seed if made.seed is not None else seed,
            steps=plan.steps,
            guidance=plan.guidance,
            preset=plan.preset,
            negative=plan.negative,
            prompt_id=plan.prompt_id,
            prompt_version=plan.prompt_version,
            request_id=made.request_id,
        )
        yield MadeFile(embed(made.data, metadata), made.mime_type, metadata, made.duration_seconds)


def _resolve(model: object) -> tuple[str, str, bool, bool]:
    """(model id, provider, takes steps, takes guidance) of a usable model."""
    model_id = clean_model_id(model)
    if model_id == OFFLINE_MODEL_ID:
        return OFFLINE_MODEL_ID, OFFLINE_PROVIDER, False, False
    found = image_model(model_id)
    reason = found.unavailable_reason()
    if reason is not None:
        raise MissingKeyError(reason)
    return found.info.model_id, found.info.provider, found.takes_steps, found.takes_guidance


def _seeds(seed: object, count: int) -> list[int]:
    """Consecutive from a fixed seed (as a queued run does), else random; kept either way."""
    if isinstance(seed, int) and not isinstance(seed, bool):
        return [(seed + i) % SEED_LIMIT for i in range(count)]
    return [secrets.randbelow(SEED_LIMIT) for _ in range(count)]

"""Generate on the spot, with no queue and no credits: the operator's command line.

    plan = plan_images(prompt, model="flux-schnell", n=2, seed=7, aspect="16:9", preset="noir")
    for made in make_images(plan):
        path.write_bytes(made.data)          # the parameters are embedded in the file

It takes the same path as a queued run (runs.start_generation, then run_worker): the same
planner (planning.plan_generation: preset, aspect ratio, size, per-model rendering, seeds);
each image is made by image_maker.make_image and carries its parameters through
metadata.embed. Only the
bookkeeping is left out (no rows, no reservations), which is why this is for operators, like
`jsoncraft analyze`, and never reachable from the web.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, col, select

from app.services.core.errors import NotFoundError
from app.services.core.models import Prompt, PromptVersion
from app.services.generation.image_maker import make_image
from app.services.generation.metadata import GenerationMetadata, embed
from app.services.generation.planning import choose_model, plan_generation


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
    plan = plan_generation(prompt, model=choose_model(model), n=n, seed=seed, aspect=aspect,
                           preset=preset, steps=steps, guidance=guidance)  # fmt: skip
    return DirectPlan(
        model_id=plan.model.model_id,
        provider=plan.model.provider,
        prompt_format=plan.rendered.prompt_format,
        prompt_sent=plan.rendered.text,
        negative=plan.rendered.negative,
        width=plan.width,
        height=plan.height,
        preset=plan.preset,
        steps=plan.steps,
        guidance=plan.guidance,
        seeds=plan.seeds,
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

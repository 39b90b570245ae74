"""The round trip on the prompt page: how a generated image was made and how faithful it is,
and for a source prompt, which of its versions renders most faithfully.

Scoring runs in the worker (score_quietly) right after the image is delivered and paid for;
the pages only read what it stored. A score that could not be computed is None, never a failed
image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.services.core.logs import get_logger
from app.services.core.models import (
    Asset,
    Generation,
    GenerationImage,
    Prompt,
    PromptVersion,
    User,
)
from app.services.core.storage import Storage
from app.services.generation.fidelity import (
    FidelityAverage,
    FidelityPart,
    FidelityScore,
    average_fidelity,
    score_fidelity,
)
from app.services.generation.labels import model_label, model_labels
from app.services.generation.run_records import ImageStatus
from app.services.library.access import can_view, visibility_clause

log = get_logger("generation")

FIDELITY_DOC = "docs/fidelity.md"
FIDELITY_SUMMARY = (
    "The image is read back offline and compared with the JSON it was made from: colours "
    "(CIEDE2000 distance to the palette), aspect ratio, text (OCR against text_render), "
    "composition (where the subjects sit) and subject count. Parts the prompt says nothing "
    "about are left out; the rest are weighted into a 0-100 score."
)


def score_quietly(image: bytes, prompt: dict[str, Any]) -> FidelityScore | None:
    """The image's fidelity score, or None when scoring failed: a broken scorer must never
    fail or uncharge an image that was made and paid for. The failure is logged."""
    try:
        return score_fidelity(image, prompt)
    except Exception:
        log.exception("fidelity scoring failed")
        return None


def stored_parts(score: FidelityScore) -> list[dict[str, Any]]:
    """A score's parts as the JSON kept on the image row (generation_images.fidelity_parts)."""
    return [vars(part).copy() for part in score.parts]


def score_from_row(score: int | None, parts: object) -> FidelityScore:
    """A stored score back as a FidelityScore; parts that don't have the stored shape are
    skipped (the row is ours, but a later formula may have written more)."""
    kept = []
    for raw in parts if isinstance(parts, list) else []:
        try:
            kept.append(
                FidelityPart(
                    name=str(raw["name"]),
                    label=str(raw["label"]),
                    score=int(raw["score"]),
                    weight=float(raw["weight"]),
                    explanation=str(raw.get("explanation", "")),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return FidelityScore(score=score, parts=tuple(kept))


# --- a generated entry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MadeFrom:
    """How a generated gallery entry was made, for its prompt page."""

    generation_id: int
    position: int
    count: int
    provider: str
    model: str
    model_label: str
    seed: int | None
    width: int
    height: int
    aspect: str
    steps: int | None
    guidance: float | None
    preset: str | None
    prompt_format: str
    prompt_sent: str
    negative: str | None
    cost_credits: int
    duration_ms: int | None
    request_id: str | None
    # The source prompt, when there was one and the viewer may open it.
    source_prompt_id: int | None
    source_title: str
    source_version: int | None
    fidelity: FidelityScore | None


def made_from(session: Session, *, prompt_id: int, viewer: User | None) -> MadeFrom | None:
    """The generation behind a gallery entry, or None for a prompt no generation made.
    The caller has already checked the viewer may see the entry itself."""
    row = session.exec(
        select(GenerationImage, Generation)
        .join(Generation, col(Generation.id) == col(GenerationImage.generation_id))
        .where(col(GenerationImage.gallery_prompt_id) == prompt_id)
    ).first()
    if row is None:
        return None
    image, generation = row
    source = session.get(Prompt, generation.prompt_id) if generation.prompt_id else None
    visible = source is not None and can_view(viewer, source)
    version = (
        session.get(PromptVersion, generation.prompt_version_id)
        if generation.prompt_version_id is not None
        else None
    )
    return MadeFrom(
        generation_id=generation.id or 0,
        position=image.position,
        count=generation.n,
        provider=generation.provider,
        model=generation.model,
        model_label=model_label(generation.model),
        seed=image.seed,
        width=generation.width,
        height=generation.height,
        aspect=generation.aspect,
        steps=generation.steps,
        guidance=generation.guidance,
        preset=generation.preset,
        prompt_format=generation.prompt_format,
        prompt_sent=generation.prompt_sent,
        negative=generation.negative,
        cost_credits=image.cost_credits,
        duration_ms=image.duration_ms,
        request_id=image.request_id,
        source_prompt_id=source.id if visible and source is not None else None,
        source_title=source.title if visible and source is not None else "",
        source_version=version.number if visible and version is not None else None,
        fidelity=score_from_row(image.fidelity_score, image.fidelity_parts)
        if image.fidelity_score is not None
        else None,
    )


# --- a source prompt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedImageCard:
    prompt_id: int  # the gallery entry
    title: str
    thumbnail_url: str
    model_label: str
    fidelity_score: int | None


@dataclass(frozen=True)
class VersionFidelity:
    version: int
    average: FidelityAverage
    images: list[GeneratedImageCard]


MAX_IMAGES_PER_VERSION = 12


def fidelity_by_version(
    session: Session, *, prompt_id: int, viewer: User | None, storage: Storage | None = None
) -> list[VersionFidelity]:
    """The images made from each version of a prompt that the viewer may see, newest version
    first, with the average fidelity of each version over all its scored images shown."""
    rows = session.exec(
        select(GenerationImage, PromptVersion.number, Prompt, Asset)
        .join(Generation, col(Generation.id) == col(GenerationImage.generation_id))
        .join(PromptVersion, col(PromptVersion.id) == col(Generation.prompt_version_id))
        .join(Prompt, col(Prompt.id) == col(GenerationImage.gallery_prompt_id))
        .join(Asset, col(Asset.id) == col(GenerationImage.asset_id), isouter=True)
        .where(
            col(Generation.prompt_id) == prompt_id,
            col(GenerationImage.status) == ImageStatus.done.value,
            col(Prompt.deleted_at).is_(None),
            visibility_clause(viewer),
        )
        .order_by(col(Generation.created_at).desc(), col(GenerationImage.position))
    ).all()
    grouped: dict[int, list[tuple[GenerationImage, Prompt, Asset | None]]] = {}
    for image, number, entry, asset in rows:
        grouped.setdefault(int(number), []).append((image, entry, asset))
    labels = model_labels({entry.model for _, _, entry, _ in rows})
    out = []
    for number in sorted(grouped, reverse=True):
        found = grouped[number]
        average = average_fidelity(
            score_from_row(image.fidelity_score, image.fidelity_parts)
            for image, _, _ in found
            if image.fidelity_score is not None
        )
        cards = [
            GeneratedImageCard(
                prompt_id=entry.id or 0,
                title=entry.title,
                thumbnail_url=storage.presigned_get_url(asset.thumbnail_key)
                if storage is not None and asset is not None and asset.thumbnail_key
                else "",
                model_label=labels.get(entry.model, entry.model),
                fidelity_score=image.fidelity_score,
            )
            for image, entry, asset in found[:MAX_IMAGES_PER_VERSION]
        ]
        out.append(VersionFidelity(version=number, average=average, images=cards))
    return out

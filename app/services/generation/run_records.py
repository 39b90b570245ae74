"""The rows of a generation run: statuses, what a caller sees, and settling credits per image.

Shared by runs.py (start, cancel, read) and run_worker.py (the queue task), so neither imports
the other. Each image has its own reservation: done commits it, failed or cancelled refunds it.
Settling is idempotent, so it is safe to repeat after a worker was killed half-way.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.services.billing import credits
from app.services.core.errors import ConflictError, NotFoundError
from app.services.core.models import Generation, GenerationImage


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"  # at least one image came back
    failed = "failed"  # none did
    cancelled = "cancelled"


class ImageStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


FINISHED_RUN = (RunStatus.done, RunStatus.failed, RunStatus.cancelled)
WAITING_IMAGE = (ImageStatus.queued, ImageStatus.running)


@dataclass(frozen=True)
class ImageView:
    position: int
    status: str
    seed: int | None
    asset_id: int | None
    request_id: str | None
    duration_ms: int | None
    cost_credits: int
    error: str | None
    # Images of this run still to go before this one (queued images only), for "queued (2nd)".
    waiting_ahead: int | None
    # The round trip (None until scored) and the gallery entry the image became.
    fidelity_score: int | None = None
    fidelity_parts: tuple[dict[str, object], ...] = ()
    gallery_prompt_id: int | None = None


@dataclass(frozen=True)
class GenerationView:
    id: int
    status: str
    provider: str
    model: str
    prompt_id: int | None
    prompt_version_id: int | None
    width: int
    height: int
    aspect: str
    steps: int | None
    guidance: float | None
    preset: str | None
    prompt_format: str
    prompt_sent: str
    credits_per_image: int
    credits_charged: int
    cancel_requested: bool
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    images: list[ImageView]


def reservation_key(generation_id: int, position: int) -> str:
    return f"generation:{generation_id}:image:{position}"


def images_of(session: Session, generation_id: int) -> list[GenerationImage]:
    return list(
        session.exec(
            select(GenerationImage)
            .where(col(GenerationImage.generation_id) == generation_id)
            .order_by(col(GenerationImage.position))
            .execution_options(populate_existing=True)
        ).all()
    )


def settle(session: Session, image: GenerationImage, *, price: int) -> None:
    """Commit a done image's reservation, refund a failed or cancelled one; nothing while it
    waits. Repeats change nothing. Sets the image's `cost_credits` and commits `session`."""
    key = image.reservation_key
    if key is None or image.status in WAITING_IMAGE:
        return
    session.commit()  # the ledger writes in its own transaction
    if image.status == ImageStatus.done:
        with contextlib.suppress(ConflictError):  # refunded already: never charge it after
            credits.commit(session, key=key, actual=price)
            image.cost_credits = price
    else:
        with contextlib.suppress(ConflictError, NotFoundError):  # charged already, or never held
            credits.refund(session, key=key)
            image.cost_credits = 0
    session.add(image)
    session.commit()


def view_of(session: Session, generation: Generation) -> GenerationView:
    images = images_of(session, generation.id or 0)
    queued = [i.position for i in images if i.status == ImageStatus.queued]
    return GenerationView(
        id=generation.id or 0,
        status=generation.status,
        provider=generation.provider,
        model=generation.model,
        prompt_id=generation.prompt_id,
        prompt_version_id=generation.prompt_version_id,
        width=generation.width,
        height=generation.height,
        aspect=generation.aspect,
        steps=generation.steps,
        guidance=generation.guidance,
        preset=generation.preset,
        prompt_format=generation.prompt_format,
        prompt_sent=generation.prompt_sent,
        credits_per_image=generation.credits_per_image,
        credits_charged=sum(i.cost_credits for i in images),
        cancel_requested=generation.cancel_requested,
        error=generation.error,
        created_at=generation.created_at,
        finished_at=generation.finished_at,
        images=[
            ImageView(
                position=i.position,
                status=i.status,
                seed=i.seed,
                asset_id=i.asset_id,
                request_id=i.request_id,
                duration_ms=i.duration_ms,
                cost_credits=i.cost_credits,
                error=i.error,
                waiting_ahead=queued.index(i.position) if i.position in queued else None,
                fidelity_score=i.fidelity_score,
                fidelity_parts=tuple(i.fidelity_parts or ()),
                gallery_prompt_id=i.gallery_prompt_id,
            )
            for i in images
        ],
    )

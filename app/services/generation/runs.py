"""Generation runs: price a request, start it, cancel it, read its progress.

    quote(...)             what a run will cost, shown before every run
    start_generation(...)  validate, price, reserve credits per image, store the rows, queue
    cancel_generation(...) stop before the next image; what never started is refunded
    get_generation(...)    status and per-image results, for the page, API and CLI

The work itself runs on the job queue (run_queue.py → run_worker.py), never in the web
process. The rows written here are the truth it works from, so a restart loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.services.billing import credits, pricing
from app.services.core.errors import (
    ConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    NotFoundError,
)
from app.services.core.models import Generation, GenerationImage, PromptVersion, User, utcnow
from app.services.generation.lora_training import lora_weights, stored_loras
from app.services.generation.planning import (
    ChosenModel,
    choose_model,
    image_count,
    plan_generation,
)
from app.services.generation.run_queue import enqueue
from app.services.generation.run_records import (
    GenerationView,
    ImageStatus,
    RunStatus,
    images_of,
    reservation_key,
    settle,
    view_of,
)
from app.services.generation.run_worker import OFFLINE_PROVIDER
from app.services.library.access import load_prompt
from app.services.studio.jobs.lease import rows_changed

LORA_MODEL = "fal-ai/flux-lora"


@dataclass(frozen=True)
class Quote:
    """The price of a run before it starts (0 for the offline layout preview)."""

    model: str
    provider: str
    n: int
    credits_per_image: int
    total: int


def quote(session: Session, *, model: object, n: object) -> Quote:
    """Credits a run of `n` images with `model` reserves. Raises UnknownModelError,
    MissingKeyError (no key for that provider) or InvalidInputError (bad count)."""
    count = image_count(n)
    chosen = choose_model(model)
    per_image = _price(session, chosen)
    return Quote(chosen.model_id, chosen.provider, count, per_image, per_image * count)


def start_generation(
    session: Session,
    *,
    user: User,
    model: object,
    prompt_id: int | None = None,
    version: int | None = None,
    prompt: object = None,
    n: object = 1,
    seed: object = None,
    aspect: object = "1:1",
    preset: object = None,
    steps: object = None,
    guidance: object = None,
    loras: object = None,
) -> GenerationView:
    """Start a run from a saved prompt (`prompt_id`, `version` or its current one) or a JSON
    prompt given as is. Reserves credits per image before any provider call, then queues it.
    `loras` ([{"id", "scale"}]: the person's done LoRAs, scale 0-2) runs on fal-ai/flux-lora.

    Raises InvalidInputError (bad input, with what to fix), NotFoundError (a prompt or version
    the user can't see, or one in the trash), UnknownModelError, MissingKeyError, or
    InsufficientCreditsError. Nothing is kept or charged on any of those. Commits `session`.
    """
    if user.id is None:
        raise InvalidInputError("Sign in to generate images.")
    count = image_count(n)
    # Trained LoRAs ([{id, scale}], the person's own) run on the one model that applies them.
    weights = lora_weights(session, user=user, loras=loras) if loras else ()
    chosen = choose_model(LORA_MODEL if weights else model)
    data, prompt_ref, version_id = _source(session, user=user, prompt_id=prompt_id,
                                           version=version, prompt=prompt)  # fmt: skip
    plan = plan_generation(data, model=chosen, n=count, seed=seed, aspect=aspect, preset=preset,
                           steps=steps, guidance=guidance)  # fmt: skip
    per_image = _price(session, chosen)
    generation = Generation(
        user_id=user.id,
        prompt_id=prompt_ref,
        prompt_version_id=version_id,
        prompt_data=plan.prompt,
        provider=chosen.provider,
        model=chosen.model_id,
        prompt_format=plan.rendered.prompt_format,
        prompt_sent=plan.rendered.text,
        negative=plan.rendered.negative,
        width=plan.width,
        height=plan.height,
        aspect=plan.aspect,
        steps=plan.steps,
        guidance=plan.guidance,
        preset=plan.preset,
        loras=stored_loras(weights) if weights else None,
        n=count,
        credits_per_image=per_image,
    )
    session.add(generation)
    session.flush()
    assert generation.id is not None
    for position, image_seed in enumerate(plan.seeds):
        key = reservation_key(generation.id, position) if per_image else None
        session.add(GenerationImage(generation_id=generation.id, position=position,
                                    seed=image_seed, reservation_key=key))  # fmt: skip
    session.commit()
    _reserve(session, generation, per_image)
    enqueue(generation.id)
    return view_of(session, generation)


def cancel_generation(session: Session, *, user: User, generation_id: int) -> GenerationView:
    """Stop a run: images not started are cancelled and refunded now; the one being made
    finishes (and is charged if it comes back). Repeats are harmless. Commits `session`."""
    generation = _owned(session, user=user, generation_id=generation_id)
    if generation.status in (RunStatus.done, RunStatus.failed):
        raise ConflictError("That generation already finished, so there is nothing to cancel.")
    generation.cancel_requested = True
    session.add(generation)
    rows_changed(
        session,
        update(GenerationImage)
        .where(
            col(GenerationImage.generation_id) == generation_id,
            col(GenerationImage.status) == ImageStatus.queued,
        )
        .values(status=ImageStatus.cancelled.value, finished_at=utcnow()),
    )
    # Nobody holds it: nobody else will finish it. Otherwise the worker does, after its image.
    rows_changed(
        session,
        update(Generation)
        .where(
            col(Generation.id) == generation_id,
            col(Generation.worker_id).is_(None),
            col(Generation.status) == RunStatus.queued,
        )
        .values(status=RunStatus.cancelled.value, finished_at=utcnow()),
    )
    session.commit()
    for image in images_of(session, generation_id):
        session.refresh(image)
        settle(session, image, price=generation.credits_per_image)
    session.refresh(generation)
    return view_of(session, generation)


def get_generation(session: Session, *, user: User, generation_id: int) -> GenerationView:
    return view_of(session, _owned(session, user=user, generation_id=generation_id))


def _owned(session: Session, *, user: User, generation_id: int) -> Generation:
    # Fresh from the database: a caller polling with a long-lived session sees the worker's
    # progress, not the rows it loaded before.
    generation = (
        session.get(Generation, generation_id, populate_existing=True)
        if isinstance(generation_id, int) and not isinstance(generation_id, bool)
        else None
    )
    if generation is None or generation.user_id != user.id:
        raise NotFoundError("That generation doesn't exist, or it isn't yours.")
    return generation


def _price(session: Session, chosen: ChosenModel) -> int:
    if chosen.provider == OFFLINE_PROVIDER:
        return 0  # the layout preview runs here, on no one's account
    return pricing.quote_model(session, model_id=chosen.model_id, default=chosen.default_credits,
                               usd_per_call=chosen.usd_per_call).credits  # fmt: skip


def _source(
    session: Session, *, user: User, prompt_id: object, version: object, prompt: object
) -> tuple[dict[str, Any], int | None, int | None]:
    """The JSON prompt to generate from, and the saved prompt and version it came from."""
    if prompt_id is None:
        if version is not None:
            raise InvalidInputError("A version number needs the prompt it belongs to.")
        if not isinstance(prompt, Mapping):
            raise InvalidInputError("Pick a saved prompt, or give a JSON prompt (an object).")
        return dict(prompt), None, None
    if prompt is not None:
        raise InvalidInputError("Give a saved prompt or a JSON prompt, not both.")
    if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
        raise InvalidInputError("The prompt id must be a whole number.")
    saved = load_prompt(session, prompt_id=prompt_id, viewer=user)
    if saved.deleted_at is not None:
        raise NotFoundError("That prompt is in the trash: restore it to generate from it.")
    if version is None:
        row = session.get(PromptVersion, saved.current_version_id or 0)
    elif isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInputError("The version must be a whole number.")
    else:
        row = session.exec(
            select(PromptVersion).where(
                col(PromptVersion.prompt_id) == prompt_id, col(PromptVersion.number) == version
            )
        ).first()
    if row is None or row.prompt_id != prompt_id:
        raise NotFoundError("That version of the prompt doesn't exist.")
    return dict(row.data), prompt_id, row.id


def _reserve(session: Session, generation: Generation, per_image: int) -> None:
    """Hold each image's credits before anything runs; if the balance can't cover them all,
    give back what was held and keep nothing."""
    if not per_image:
        return
    images = images_of(session, generation.id or 0)
    held: list[str] = []
    try:
        for image in images:
            assert image.reservation_key is not None
            credits.reserve(session, user_id=generation.user_id, amount=per_image,
                            idempotency_key=image.reservation_key,
                            reference=f"generation:{generation.id}")  # fmt: skip
            held.append(image.reservation_key)
    except InsufficientCreditsError as e:
        for key in held:
            credits.refund(session, key=key)
        rows_changed(
            session,
            delete(GenerationImage).where(col(GenerationImage.generation_id) == generation.id),
        )
        rows_changed(session, delete(Generation).where(col(Generation.id) == generation.id))
        session.commit()
        available = credits.balance(session, user_id=generation.user_id)
        raise InsufficientCreditsError(balance=available, cost=per_image * len(images)) from e

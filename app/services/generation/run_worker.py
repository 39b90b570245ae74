"""The queue task's body: make a generation's images one at a time, store each in the owner's
gallery with its parameters embedded, and settle each image's credits.

Runs in the worker, never in the web process. The rows are the truth: a run handed back (its
worker was killed) resumes at its first image not yet done, and settling is idempotent, so
no image is charged twice. Cancelling stops before the next image; what had not started is
refunded.
"""

from __future__ import annotations

import io

from sqlalchemy import update
from sqlmodel import Session, col

from app.services import analytics
from app.services.core import metrics
from app.services.core.db import session_scope
from app.services.core.errors import LeaseLostError, UserFacingError
from app.services.core.logs import get_logger
from app.services.core.models import (
    Generation,
    GenerationImage,
    Prompt,
    PromptVersion,
    User,
    utcnow,
)
from app.services.core.storage import get_storage
from app.services.generation.gallery_entry import add_to_gallery, embed_restorable
from app.services.generation.image_maker import OFFLINE_PROVIDER, image_model, make_image
from app.services.generation.metadata import GenerationMetadata
from app.services.generation.round_trip import score_quietly, stored_parts
from app.services.generation.run_lease import claim, heartbeat, release, touch
from app.services.generation.run_records import (
    WAITING_IMAGE,
    ImageStatus,
    RunStatus,
    images_of,
    settle,
)
from app.services.generation.types import GeneratedImage, LoraWeight
from app.services.images.intake import ingest_image
from app.services.notify import triggers
from app.services.studio.jobs.lease import current_worker_id, rows_changed

log = get_logger("generation")

__all__ = ["OFFLINE_PROVIDER", "image_model", "run_generation"]  # runs.py and pages use both

UNEXPECTED = "Something went wrong while making this image. Its credits were refunded."


def run_generation(generation_id: int) -> str:
    """Run a queued generation to the end (or until cancelled). Returns what happened, for logs."""
    worker_id = current_worker_id()
    with session_scope() as session:
        if not claim(session, generation_id=generation_id, worker_id=worker_id):
            return "not claimed"
    try:
        with heartbeat(generation_id, worker_id) as lost:
            for position in _waiting_positions(generation_id):
                if lost.is_set() or _cancel_requested(generation_id):
                    break
                _run_image(generation_id, position, worker_id)
            if lost.is_set():
                return "lease lost"
        return _finish(generation_id, worker_id)
    except LeaseLostError:
        log.warning("generation %s was taken over by another worker", generation_id)
        return "lease lost"
    except BaseException:
        # Not our failure to judge (the database went away, the worker is stopping): hand
        # the run back so recovery queues it again, images and credits untouched.
        with session_scope() as session:
            release(session, generation_id=generation_id, worker_id=worker_id)
        raise


def _waiting_positions(generation_id: int) -> list[int]:
    with session_scope() as session:
        return [i.position for i in images_of(session, generation_id) if i.status in WAITING_IMAGE]


def _cancel_requested(generation_id: int) -> bool:
    with session_scope() as session:
        generation = session.get(Generation, generation_id)
        return generation is None or generation.cancel_requested


def _run_image(generation_id: int, position: int, worker_id: str) -> None:
    with session_scope() as session:
        image = _image(session, generation_id, position)
        if image is None or not _mark_running(session, image, worker_id):
            return  # cancelled meanwhile
        generation = session.get(Generation, generation_id)
        assert generation is not None  # held by us: it can't be deleted
        try:
            made = _make(generation, image)
            asset_id = _store(session, generation, image, made)
            add_to_gallery(session, generation=generation, image=image, asset_id=asset_id)
        except UserFacingError as e:
            session.rollback()
            _fail(session, generation, generation_id, position, worker_id, e.message)
            return
        except LeaseLostError:
            raise
        except Exception:
            log.exception("generation %s image %s failed", generation_id, position)
            session.rollback()
            _fail(session, generation, generation_id, position, worker_id, UNEXPECTED)
            return
        touch(session, generation_id=generation_id, worker_id=worker_id)
        image.status = ImageStatus.done.value
        image.asset_id = asset_id
        image.request_id = (made.request_id or "")[:200] or None
        image.seed = made.seed if made.seed is not None else image.seed
        image.duration_ms = round(made.duration_seconds * 1000)
        image.nsfw = made.nsfw
        image.finished_at = utcnow()
        session.add(image)
        session.commit()
        metrics.GENERATION_IMAGES.labels(model=generation.model, outcome="done").inc()
        settle(session, image, price=generation.credits_per_image)
        # The image is delivered and paid for before the round trip reads it back (a moment,
        # longer with text to read): the person sees it at once and the score follows. No
        # transaction is open meanwhile, so SQLite's write lock isn't held through it.
        fidelity = score_quietly(made.data, generation.prompt_data)
        if fidelity is not None:
            image.fidelity_score = fidelity.score
            image.fidelity_parts = stored_parts(fidelity)
            session.add(image)
            session.commit()


def _image(session: Session, generation_id: int, position: int) -> GenerationImage | None:
    for image in images_of(session, generation_id):
        if image.position == position:
            return image
    return None


def _mark_running(session: Session, image: GenerationImage, worker_id: str) -> bool:
    touch(session, generation_id=image.generation_id, worker_id=worker_id)
    changed = rows_changed(
        session,
        update(GenerationImage)
        .where(
            col(GenerationImage.id) == image.id,
            col(GenerationImage.status).in_([s.value for s in WAITING_IMAGE]),
        )
        .values(
            status=ImageStatus.running.value,
            started_at=utcnow(),
            attempts=col(GenerationImage.attempts) + 1,
        ),
    )
    session.commit()
    session.refresh(image)
    return changed == 1


def _fail(
    session: Session,
    generation: Generation,
    generation_id: int,
    position: int,
    worker_id: str,
    message: str,
) -> None:
    touch(session, generation_id=generation_id, worker_id=worker_id)
    image = _image(session, generation_id, position)
    if image is None:
        return
    image.status = ImageStatus.failed.value
    image.error = message[:2000]
    image.finished_at = utcnow()
    session.add(image)
    session.commit()
    metrics.GENERATION_IMAGES.labels(model=generation.model, outcome="failed").inc()
    settle(session, image, price=generation.credits_per_image)


def _make(generation: Generation, image: GenerationImage) -> GeneratedImage:
    """One image from the provider (or the offline layout preview), exactly as recorded."""
    return make_image(
        model_id=generation.model,
        prompt_format=generation.prompt_format,
        prompt_sent=generation.prompt_sent,
        width=generation.width,
        height=generation.height,
        seed=image.seed,
        steps=generation.steps,
        guidance=generation.guidance,
        negative=generation.negative,
        loras=tuple(LoraWeight(w["path"], w["scale"]) for w in generation.loras or ()),
    )


def _store(
    session: Session, generation: Generation, image: GenerationImage, made: GeneratedImage
) -> int:
    version = (
        session.get(PromptVersion, generation.prompt_version_id)
        if generation.prompt_version_id is not None
        else None
    )
    metadata = GenerationMetadata(
        provider=made.provider,
        model=generation.model,
        width=generation.width,
        height=generation.height,
        prompt_format="json" if generation.prompt_format == "json" else "text",
        prompt_sent=generation.prompt_sent,
        seed=made.seed if made.seed is not None else image.seed,
        steps=generation.steps,
        guidance=generation.guidance,
        preset=generation.preset,
        negative=generation.negative,
        prompt_id=generation.prompt_id,
        prompt_version=version.number if version is not None else None,
        request_id=made.request_id,
    )
    asset = ingest_image(
        session=session,
        storage=get_storage(),
        owner_id=generation.user_id,
        stream=io.BytesIO(embed_restorable(made.data, metadata, generation.prompt_data)),
        filename=f"generation-{generation.id}-{image.position + 1}.png",
    )
    assert asset.id is not None
    return asset.id


def _finish(generation_id: int, worker_id: str) -> str:
    """Cancel what never started, settle every image, set the run's outcome, let go."""
    with session_scope() as session:
        generation = session.get(Generation, generation_id)
        assert generation is not None
        images = images_of(session, generation_id)
        for image in images:
            if image.status in WAITING_IMAGE:
                if not generation.cancel_requested:
                    # The loop stopped early without a cancel: leave the rest for a retry.
                    release(session, generation_id=generation_id, worker_id=worker_id)
                    return "handed back"
                image.status = ImageStatus.cancelled.value
                image.finished_at = utcnow()
                session.add(image)
        session.commit()
        for image in images:
            settle(session, image, price=generation.credits_per_image)
        statuses = {i.status for i in images}
        if generation.cancel_requested:
            outcome = RunStatus.cancelled
        elif ImageStatus.done in statuses:
            outcome = RunStatus.done
        else:
            outcome = RunStatus.failed
        failed = [i.error for i in images if i.status == ImageStatus.failed and i.error]
        finished = rows_changed(
            session,
            update(Generation)
            .where(col(Generation.id) == generation_id, col(Generation.worker_id) == worker_id)
            .values(
                status=outcome.value,
                worker_id=None,
                heartbeat_at=utcnow(),
                finished_at=utcnow(),
                error=failed[0] if failed and outcome == RunStatus.failed else None,
            ),
        )
        if finished != 1:
            raise LeaseLostError(f"generation {generation_id} is no longer held by {worker_id}")
        if outcome != RunStatus.cancelled:  # whoever cancelled it knows already
            _tell_owner(session, generation, images)
        if outcome == RunStatus.done:
            done = sum(1 for i in images if i.status == ImageStatus.done)
            analytics.capture_after_commit(
                session,
                generation.user_id,
                "generation_done",
                {"model": generation.model, "images": done},
            )
        session.commit()
        metrics.GENERATIONS.labels(outcome=outcome.value).inc()
        return outcome.value


def _tell_owner(session: Session, generation: Generation, images: list[GenerationImage]) -> None:
    """The "generation done" email, in the transaction that sets the run's outcome."""
    owner = session.get(User, generation.user_id)
    if owner is None or generation.id is None:
        return
    prompt = session.get(Prompt, generation.prompt_id) if generation.prompt_id else None
    triggers.generation_batch_done(
        session,
        user=owner,
        run_id=generation.id,
        title=prompt.title if prompt is not None else "your JSON prompt",
        images_done=sum(1 for i in images if i.status == ImageStatus.done),
        images_failed=sum(1 for i in images if i.status == ImageStatus.failed),
    )

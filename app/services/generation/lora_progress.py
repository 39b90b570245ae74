"""Following a submitted LoRA training: one poll, Fal's answer applied, the time limit.

Webhook and polling both end here, whichever comes first: every change is a conditional update
on a training not yet finished, so the second one to arrive changes nothing and no training is
settled twice. A training past LORA_TIME_LIMIT_SECONDS is cancelled at Fal (if Fal still
answers), marked failed and refunded: a lost callback never leaves one "training" forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from app.services.core.errors import ProviderError
from app.services.core.logs import get_logger
from app.services.core.models import LoraTraining, utcnow
from app.services.generation import lora_fal
from app.services.generation.lora_fal import Outcome
from app.services.generation.lora_records import ACTIVE, TrainingStatus, finish, load
from app.services.studio.jobs.lease import rows_changed
from app.settings import Settings, get_settings

log = get_logger("lora")


def apply_outcome(session: Session, training_id: int, outcome: Outcome) -> bool:
    """Record where Fal says the training stands. True when it finished just now."""
    if outcome.stage == "done":
        return finish(session, training_id, TrainingStatus.done, lora_url=outcome.lora_url,
                      config_url=outcome.config_url)  # fmt: skip
    if outcome.stage == "failed":
        return finish(session, training_id, TrainingStatus.failed,
                      error=outcome.error or "Fal could not train this LoRA.")  # fmt: skip
    values: dict[str, object] = {"polled_at": utcnow()}
    earlier = [TrainingStatus.queued.value, TrainingStatus.uploading.value]
    if outcome.stage == "running":
        rows_changed(
            session,
            update(LoraTraining)
            .where(col(LoraTraining.id) == training_id, col(LoraTraining.status).in_(earlier))
            .values(status=TrainingStatus.training.value),
        )
    rows_changed(
        session,
        update(LoraTraining)
        .where(
            col(LoraTraining.id) == training_id,
            col(LoraTraining.status).in_([s.value for s in ACTIVE]),
        )
        .values(**values),
    )
    session.commit()
    return False


def poll_once(
    session: Session, training_id: int, *, settings: Settings | None = None,
    now: datetime | None = None,
) -> str:  # fmt: skip
    """Ask Fal once about a submitted training and apply the answer; give up on it past the
    time limit. Returns its status afterwards. A poll that fails is retried next time."""
    settings = settings or get_settings()
    training = load(session, training_id)
    if training.status not in ACTIVE:
        return training.status
    if past_time_limit(training, settings=settings, now=now):
        time_out(session, training, settings=settings)
        return load(session, training_id).status
    queued = lora_fal.queued_request(training)
    if queued is None:
        return training.status  # not submitted yet: the queue task does that
    if training.cancel_requested and _stopped_at_fal(settings, queued):
        # Cancelled while it was being submitted (or Fal was unreachable at the cancel).
        finish(session, training_id, TrainingStatus.cancelled)
        return load(session, training_id).status
    # Not stopped: Fal had finished it already, so the poll below says how it ended.
    try:
        outcome = asyncio.run(lora_fal.poll(settings, queued))
    except ProviderError as e:
        log.warning("lora training %s: poll failed (%s); next time", training_id, e.message)
        return training.status
    apply_outcome(session, training_id, outcome)
    return load(session, training_id).status


def _stopped_at_fal(settings: Settings, queued: lora_fal.QueuedRequest) -> bool:
    try:
        return asyncio.run(lora_fal.cancel(settings, queued))
    except ProviderError:
        return True  # unreachable: we stop following it either way


def past_time_limit(
    training: LoraTraining, *, settings: Settings, now: datetime | None = None
) -> bool:
    started = training.created_at
    return (now or utcnow()) - started > timedelta(seconds=settings.lora_time_limit_seconds)


def time_out(session: Session, training: LoraTraining, *, settings: Settings) -> None:
    """Stop a training that took too long: cancel it at Fal, fail it, refund it."""
    assert training.id is not None
    queued = lora_fal.queued_request(training)
    if queued is not None:
        with contextlib.suppress(ProviderError):  # Fal unreachable: failing it here still holds
            asyncio.run(lora_fal.cancel(settings, queued))
    hours = settings.lora_time_limit_seconds / 3600
    limit = f"{hours:g} hours" if hours >= 1 else f"{settings.lora_time_limit_seconds:g} seconds"
    if finish(
        session,
        training.id,
        TrainingStatus.failed,
        error=f"The training did not finish within {limit}, so it was stopped. "
        "Its credits were refunded; try again.",
    ):
        log.warning("lora training %s passed its time limit; failed and refunded", training.id)

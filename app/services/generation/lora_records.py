"""The rows of a LoRA training: statuses, what a caller sees, and settling its credits.

Shared by lora_training.py (start, cancel, delete, read), lora_progress.py (polling and the
webhook) and lora_queue.py (the queue task), so none of them imports another. A training holds
one reservation: done commits it, failed or cancelled refunds it. Finishing is one conditional
update, so the webhook and a poll arriving together finish a training once.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from app.services import analytics
from app.services.billing import credits
from app.services.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from app.services.core.models import LoraTraining, User, utcnow
from app.services.core.storage import get_storage
from app.services.notify import triggers
from app.services.studio.jobs.lease import rows_changed


class TrainingStatus(enum.StrEnum):
    queued = "queued"  # waiting for a worker to hand it to Fal
    uploading = "uploading"  # submitted: Fal is fetching the photos' zip
    training = "training"  # Fal is training
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    deleted = "deleted"  # a finished LoRA its owner removed: hidden, kept for the ledger


ACTIVE = (TrainingStatus.queued, TrainingStatus.uploading, TrainingStatus.training)
FINISHED = (TrainingStatus.done, TrainingStatus.failed, TrainingStatus.cancelled)
TRAINING_MODEL = "fal-ai/flux-lora-fast-training"


@dataclass(frozen=True)
class LoraView:
    id: int
    name: str
    trigger_word: str
    steps: int
    kind: str  # "subject" | "style"
    status: str
    image_count: int
    credits: int
    credits_charged: int
    request_id: str | None
    lora_url: str | None
    config_url: str | None
    sample_asset_ids: tuple[int, ...]
    error: str | None
    created_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None


def reservation_key(training_id: int) -> str:
    return f"lora-training:{training_id}"


def view_of(training: LoraTraining) -> LoraView:
    assert training.id is not None
    return LoraView(
        id=training.id,
        name=training.name,
        trigger_word=training.trigger_word,
        steps=training.steps,
        kind="style" if training.is_style else "subject",
        status=training.status,
        image_count=training.image_count,
        credits=training.credits,
        credits_charged=training.credits if training.status == TrainingStatus.done else 0,
        request_id=training.fal_request_id,
        lora_url=training.lora_url,
        config_url=training.config_url,
        sample_asset_ids=tuple(training.sample_asset_ids or ()),
        error=training.error,
        created_at=training.created_at,
        submitted_at=training.submitted_at,
        finished_at=training.finished_at,
    )


def load(session: Session, training_id: int) -> LoraTraining:
    """The row fresh from the database (a long-lived session sees the worker's progress)."""
    found = session.get(LoraTraining, training_id, populate_existing=True)
    if found is None:
        raise NotFoundError("That LoRA doesn't exist, or it isn't yours.")
    return found


def finish(
    session: Session,
    training_id: int,
    outcome: TrainingStatus,
    *,
    error: str | None = None,
    **values: Any,
) -> bool:
    """Move a training that has not finished to `outcome` and settle its credits. False when
    it had already finished (a webhook and a poll raced, or a repeat): nothing changes then.
    Commits `session`."""
    assert outcome in FINISHED
    changed = rows_changed(
        session,
        update(LoraTraining)
        .where(
            col(LoraTraining.id) == training_id,
            col(LoraTraining.status).in_([s.value for s in ACTIVE]),
        )
        .values(
            status=outcome.value,
            error=error[:2000] if error else None,
            finished_at=utcnow(),
            worker_id=None,
            **values,
        ),
    )
    if changed == 1 and outcome != TrainingStatus.cancelled:  # a cancel is its owner's doing
        _tell_owner(session, training_id, outcome=outcome, error=error)
    session.commit()
    training = load(session, training_id)
    settle(session, training)
    if changed == 1 and training.zip_key:
        # Fal has what it needed (or never will): the photos' zip is not kept past the end.
        with contextlib.suppress(StorageError, InvalidInputError):
            get_storage().delete(training.zip_key)
    return changed == 1


def _tell_owner(
    session: Session, training_id: int, *, outcome: TrainingStatus, error: str | None
) -> None:
    """The "LoRA trained or failed" email, in the transaction that finishes the training."""
    training = load(session, training_id)
    if outcome == TrainingStatus.done:
        kind = "style" if training.is_style else "subject"
        analytics.capture_after_commit(session, training.user_id, "lora_trained", {"kind": kind})
    owner = session.get(User, training.user_id)
    if owner is None:
        return
    triggers.lora_finished(
        session,
        user=owner,
        lora_id=training_id,
        name=training.name,
        status=outcome.value,
        error=error,
    )


def settle(session: Session, training: LoraTraining) -> None:
    """Commit a done training's reservation, refund a failed or cancelled one. Idempotent."""
    key = training.reservation_key
    if key is None or training.status not in FINISHED:
        return  # a deleted LoRA was settled when it finished
    with contextlib.suppress(ConflictError, NotFoundError):  # already settled the same way
        if training.status == TrainingStatus.done:
            credits.commit(session, key=key, actual=training.credits)
        else:
            credits.refund(session, key=key)

"""LoRA trainings: price one, start it, follow, cancel or delete it, and use it in generation.

    quote_training(...)   the credits a training reserves, shown before it runs
    start_training(...)   check the photos, store their zip, reserve the credits, queue it
    list_loras / get_lora the person's LoRAs with their status and sample photos
    cancel_training(...)  stop one still running (cancelled at Fal too); refunded
    delete_lora(...)      hide a finished one from lists and pickers; its row stays (ledger)
    lora_weights(...)     the person's done LoRAs as generation takes them ({path, scale})

The training itself runs at Fal; the queue (lora_queue.py), Fal's webhook (lora_webhook.py)
and reconciliation follow it. The rows are the truth all three work from.
"""

from __future__ import annotations

import asyncio
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.services.billing import credits, pricing
from app.services.core.errors import (
    ConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    MissingKeyError,
    NotFoundError,
    ProviderError,
)
from app.services.core.logs import get_logger
from app.services.core.models import LoraTraining, User, utcnow
from app.services.core.storage import get_storage
from app.services.generation import lora_fal
from app.services.generation.lora_photos import Photo, build_zip, read_photos
from app.services.generation.lora_queue import enqueue
from app.services.generation.lora_records import (
    ACTIVE,
    FINISHED,
    LoraView,
    TrainingStatus,
    finish,
    load,
    reservation_key,
    view_of,
)
from app.services.generation.providers.fal_queue import MISSING_KEY, FalQueue
from app.services.generation.types import LoraWeight
from app.services.images.intake import ingest_image
from app.settings import get_settings

log = get_logger("lora")

OPERATION = "lora_training"
KINDS = ("subject", "style")
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 100, 5000, 1000
MAX_SCALE = 2.0
MAX_LORAS = 3  # per generation
SAMPLES = 4  # photos kept in the gallery to show beside the LoRA
_TRIGGER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,39}")


@dataclass(frozen=True)
class TrainingQuote:
    credits: int
    balance: int


def quote_training(session: Session, *, user: User) -> TrainingQuote:
    price = pricing.price_for_operation(session, operation=OPERATION)
    return TrainingQuote(price, credits.balance(session, user_id=user.id or 0))


def check_settings(*, trigger_word: object, steps: object, kind: object) -> tuple[str, int, bool]:
    """The training's settings, checked, with messages people see. Returns them cleaned."""
    if not isinstance(trigger_word, str) or not _TRIGGER.fullmatch(trigger_word.strip()):
        raise InvalidInputError(
            "The trigger word must be 2 to 40 letters, digits, '-' or '_', starting with a "
            "letter or digit, e.g. TOK or my_dog. Use it in prompts to call up the LoRA."
        )
    if isinstance(steps, bool) or not isinstance(steps, int) or not MIN_STEPS <= steps <= MAX_STEPS:
        raise InvalidInputError(f"Steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}.")
    if kind not in KINDS:
        raise InvalidInputError('Choose "subject" (a person, pet or object) or "style".')
    return trigger_word.strip(), steps, kind == "style"


def start_training(
    session: Session,
    *,
    user: User,
    files: Sequence[tuple[str, bytes]],
    trigger_word: object,
    steps: object = DEFAULT_STEPS,
    kind: object = "subject",
    name: object = None,
) -> LoraView:
    """Check everything, store the photos' zip, reserve the price, queue the training.

    Raises InvalidInputError (bad settings or photos, naming the file at fault),
    MissingKeyError (no FAL_KEY), or InsufficientCreditsError; nothing is kept or charged
    then. Commits `session`.
    """
    if user.id is None:
        raise InvalidInputError("Sign in to train a LoRA.")
    word, step_count, is_style = check_settings(trigger_word=trigger_word, steps=steps, kind=kind)
    if FalQueue(settings=get_settings()).api_key() is None:
        raise MissingKeyError(MISSING_KEY.replace("use Fal.ai models, or pick another model",
                                                  "train LoRAs on Fal.ai"))  # fmt: skip
    label = _name(name, word)
    photos = read_photos(list(files))
    price = pricing.price_for_operation(session, operation=OPERATION)
    available = credits.balance(session, user_id=user.id)
    if available < price:
        raise InsufficientCreditsError(balance=available, cost=price)
    storage = get_storage()
    zip_key = f"loras/{user.id}/{secrets.token_hex(16)}.zip"
    storage.put_bytes(zip_key, build_zip(photos), content_type="application/zip")
    training = LoraTraining(user_id=user.id, name=label, trigger_word=word, steps=step_count,
                            is_style=is_style, image_count=len(photos), zip_key=zip_key,
                            credits=price)  # fmt: skip
    session.add(training)
    session.flush()
    assert training.id is not None
    training.reservation_key = reservation_key(training.id) if price else None
    session.commit()
    if training.reservation_key is not None:
        try:
            credits.reserve(session, user_id=user.id, amount=price,
                            idempotency_key=training.reservation_key,
                            reference=f"lora-training:{training.id}")  # fmt: skip
        except InsufficientCreditsError:
            session.delete(training)
            session.commit()
            storage.delete(zip_key)
            raise
    training.sample_asset_ids = _keep_samples(session, user.id, photos)
    session.add(training)
    session.commit()
    enqueue(training.id)
    return view_of(load(session, training.id))


def list_loras(session: Session, *, user: User, done_only: bool = False) -> list[LoraView]:
    """The person's LoRAs, newest first; deleted ones are not listed."""
    query = select(LoraTraining).where(
        col(LoraTraining.user_id) == user.id,
        col(LoraTraining.status) != TrainingStatus.deleted.value,
    )
    if done_only:
        query = query.where(col(LoraTraining.status) == TrainingStatus.done.value)
    rows = session.exec(
        query.order_by(col(LoraTraining.created_at).desc(), col(LoraTraining.id).desc())
    ).all()
    for row in rows:
        session.refresh(row)  # the worker's progress, not what this session loaded before
    return [view_of(row) for row in rows]


def get_lora(session: Session, *, user: User, lora_id: int) -> LoraView:
    return view_of(_owned(session, user=user, lora_id=lora_id))


def cancel_training(session: Session, *, user: User, lora_id: int) -> LoraView:
    """Stop a training still running: cancelled at Fal, then refunded. One Fal already
    finished stays done (and charged). Commits `session`."""
    training = _owned(session, user=user, lora_id=lora_id)
    if training.status not in ACTIVE:
        raise ConflictError("That training already finished, so there is nothing to cancel.")
    training.cancel_requested = True
    session.add(training)
    session.commit()
    queued = lora_fal.queued_request(training)
    if queued is not None:
        try:
            stopped = asyncio.run(lora_fal.cancel(get_settings(), queued))
        except ProviderError as e:
            log.warning("lora training %s: cancel at Fal failed (%s)", lora_id, e.message)
            stopped = True  # we stop following it either way; Fal's own retries are theirs
        if not stopped:
            return view_of(load(session, lora_id))  # it finished at Fal: a poll will say how
    if training.worker_id is None or queued is not None:
        finish(session, lora_id, TrainingStatus.cancelled)
    return view_of(load(session, lora_id))


def delete_lora(session: Session, *, user: User, lora_id: int) -> LoraView:
    """A running training is cancelled; a finished one is hidden from lists and pickers
    (its row stays for the ledger). Commits `session`."""
    training = _owned(session, user=user, lora_id=lora_id)
    if training.status in ACTIVE:
        return cancel_training(session, user=user, lora_id=lora_id)
    if training.status in FINISHED:
        training.status = TrainingStatus.deleted.value
        training.deleted_at = utcnow()
        session.add(training)
        session.commit()
    return view_of(load(session, lora_id))


def lora_weights(session: Session, *, user: User, loras: object) -> tuple[LoraWeight, ...]:
    """`loras` ([{"id": 3, "scale": 0.8}, ...]) checked: the person's own done LoRAs, each
    with a scale from 0 to 2 (1 when not given)."""
    if not isinstance(loras, list | tuple) or not 1 <= len(loras) <= MAX_LORAS:
        raise InvalidInputError(f"Give 1 to {MAX_LORAS} LoRAs, each as {{id, scale}}.")
    weights = []
    for item in loras:
        lora_id = item.get("id") if isinstance(item, dict) else None
        scale = item.get("scale", 1.0) if isinstance(item, dict) else None
        if isinstance(lora_id, bool) or not isinstance(lora_id, int):
            raise InvalidInputError("Each LoRA needs its id (a whole number).")
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise InvalidInputError(f"A LoRA's scale must be a number from 0 to {MAX_SCALE:g}.")
        if not 0 <= scale <= MAX_SCALE:  # NaN fails this too
            raise InvalidInputError(f"A LoRA's scale must be a number from 0 to {MAX_SCALE:g}.")
        training = _owned(session, user=user, lora_id=lora_id)
        if training.status != TrainingStatus.done or not training.lora_url:
            raise InvalidInputError(f'The LoRA "{training.name}" is not trained yet.')
        weights.append(LoraWeight(path=training.lora_url, scale=float(scale)))
    return tuple(weights)


def stored_loras(weights: Sequence[LoraWeight]) -> list[dict[str, Any]]:
    return [{"path": w.path, "scale": w.scale} for w in weights]


def _owned(session: Session, *, user: User, lora_id: object) -> LoraTraining:
    training = (
        session.get(LoraTraining, lora_id, populate_existing=True)
        if isinstance(lora_id, int) and not isinstance(lora_id, bool)
        else None
    )
    if training is None or training.user_id != user.id or training.status == TrainingStatus.deleted:
        raise NotFoundError("That LoRA doesn't exist, or it isn't yours.")
    return training


def _name(name: object, word: str) -> str:
    if name is None or (isinstance(name, str) and not name.strip()):
        return word
    if not isinstance(name, str) or len(name.strip()) > 120:
        raise InvalidInputError("Give the LoRA a name of up to 120 characters.")
    return name.strip()


def _keep_samples(session: Session, user_id: int, photos: list[Photo]) -> list[int]:
    """A few of the photos, in the person's images, to show beside the LoRA."""
    kept = []
    for photo in photos[:SAMPLES]:
        asset = ingest_image(session=session, storage=get_storage(), owner_id=user_id,
                             stream=io.BytesIO(photo.data), filename=photo.name)  # fmt: skip
        if asset.id is not None:
            kept.append(asset.id)
    return kept

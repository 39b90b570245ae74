"""LoRA training on Fal's queue (`fal-ai/flux-lora-fast-training`), one call at a time.

    input   images_data_url (a presigned URL of the photos' zip in our storage), trigger_word,
            steps, is_style; with PUBLIC_BASE_URL set, `fal_webhook` names our receiver
    output  diffusers_lora_file.url (the weights fal-ai/flux-lora takes), config_file.url

Each function is one short step (submit, one poll, cancel) so a worker never sits on a
training that takes minutes: the queue task and reconciliation call them again later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from app.services.core.errors import ProviderError
from app.services.core.models import LoraTraining
from app.services.core.provider_calls import error_kind, record_provider_call
from app.services.core.storage import LocalStorage, get_storage
from app.services.generation.lora_records import TRAINING_MODEL
from app.services.generation.providers.fal_queue import LABEL, FalQueue, QueuedRequest
from app.settings import Settings

T = TypeVar("T")
WEBHOOK_PATH = "/api/webhooks/fal"
MIN_ZIP_URL_SECONDS = 3600


@dataclass(frozen=True)
class Outcome:
    """Where a training stands at Fal."""

    stage: Literal["queued", "running", "done", "failed"]
    lora_url: str | None = None
    config_url: str | None = None
    error: str | None = None


def webhook_url(settings: Settings) -> str | None:
    base = (settings.public_base_url or "").strip().rstrip("/")
    return f"{base}{WEBHOOK_PATH}" if base else None


def zip_url(settings: Settings, key: str) -> str:
    """A presigned URL Fal can fetch the zip from: S3 signs its own; the local store signs
    one to /api/files on the public base URL (the API URL when none is set)."""
    lifetime = max(MIN_ZIP_URL_SECONDS, int(settings.lora_time_limit_seconds))
    storage = get_storage(settings)
    if isinstance(storage, LocalStorage) and settings.public_base_url:
        storage.public_base_url = settings.public_base_url.rstrip("/")
    return storage.presigned_get_url(key, expires_in=lifetime)


def arguments(training: LoraTraining, *, data_url: str) -> dict[str, Any]:
    return {
        "images_data_url": data_url,
        "trigger_word": training.trigger_word,
        "steps": training.steps,
        "is_style": training.is_style,
    }


async def _recorded(call: Awaitable[T]) -> T:
    """`call` to Fal, recorded as a LoRA provider call (its metrics and ProviderCall row)."""
    started = time.monotonic()
    try:
        result = await call
    except Exception as e:
        seconds = time.monotonic() - started
        await asyncio.to_thread(record_provider_call, "fal", "lora", error_kind(e), seconds)
        raise
    seconds = time.monotonic() - started
    await asyncio.to_thread(record_provider_call, "fal", "lora", None, seconds)
    return result


async def submit(settings: Settings, training: LoraTraining, *, data_url: str) -> QueuedRequest:
    queue = FalQueue(settings=settings)
    return await _recorded(
        queue.submit(
            TRAINING_MODEL,
            arguments(training, data_url=data_url),
            webhook_url=webhook_url(settings),
        )
    )


def queued_request(training: LoraTraining) -> QueuedRequest | None:
    """The request as Fal answered it at submit (None before it was submitted)."""
    if not (training.fal_request_id and training.status_url and training.response_url):
        return None
    return QueuedRequest(
        model_id=TRAINING_MODEL,
        request_id=training.fal_request_id,
        status_url=training.status_url,
        response_url=training.response_url,
        cancel_url=training.cancel_url or "",
    )


async def poll(settings: Settings, queued: QueuedRequest) -> Outcome:
    """One look at the training; when it completed, its result."""
    queue = FalQueue(settings=settings)
    answer = await _recorded(queue.status(queued))
    stage = answer["status"]
    if stage == "IN_QUEUE":
        return Outcome("queued")
    if stage != "COMPLETED":
        return Outcome("running")
    if answer.get("error"):
        return Outcome("failed", error=_failed(answer["error"]))
    try:
        return read_output(await _recorded(queue.result(queued)))
    except ProviderError as e:
        return Outcome("failed", error=e.message)


async def cancel(settings: Settings, queued: QueuedRequest) -> bool:
    if not queued.cancel_url:
        return False
    return await _recorded(FalQueue(settings=settings).cancel(queued))


def read_output(output: object) -> Outcome:
    """The trained files from a result (polled, or a webhook's payload)."""
    lora = _file_url(output, "diffusers_lora_file")
    if lora is None:
        return Outcome("failed", error=f"{LABEL} finished the training without a LoRA file.")
    return Outcome("done", lora_url=lora, config_url=_file_url(output, "config_file"))


def _file_url(output: object, name: str) -> str | None:
    item = output.get(name) if isinstance(output, dict) else None
    url = item.get("url") if isinstance(item, dict) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _failed(error: object) -> str:
    return f"{LABEL} could not train this LoRA: {str(error)[:300]}"

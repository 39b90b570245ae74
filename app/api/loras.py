"""LoRA trainings over REST: start one from photos (or a zip), list, follow (JSON or SSE),
cancel or delete; and Fal's signed webhook that finishes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, ONE_RESOURCE, SIGNED_IN, UPLOAD, ErrorOut, error_responses
from app.api.models import fields_of
from app.api.openapi import links
from app.api.params import PathId
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.services.core.errors import ImageTooLargeError, InvalidInputError, WebhookSignatureError
from app.services.core.models import Asset, User
from app.services.core.storage import get_storage
from app.services.core.units import format_bytes
from app.services.generation import lora_training, lora_webhook
from app.services.generation.lora_photos import MAX_PHOTOS, MAX_TOTAL_BYTES
from app.services.generation.lora_records import ACTIVE, LoraView
from app.settings import get_settings

router = APIRouter(prefix="/api/loras", tags=["loras"], responses=COMMON | SIGNED_IN)
webhooks = APIRouter(tags=["webhooks"], responses=COMMON)

STREAM_INTERVAL = 1.0  # seconds between looks at the row while streaming
STREAM_KEEPALIVE = 15.0
STREAM_LIMIT = 3 * 3600.0  # a stream ends by itself after this (the time limit is shorter)
_SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["trigger_word", "photos"],
                    "properties": {
                        "trigger_word": {"type": "string", "description": "e.g. TOK"},
                        "steps": {
                            "type": "integer",
                            "minimum": 100,
                            "maximum": 5000,
                            "default": 1000,
                        },  # fmt: skip
                        "kind": {
                            "type": "string",
                            "enum": ["subject", "style"],
                            "default": "subject",
                        },  # fmt: skip
                        "name": {"type": "string", "maxLength": 120},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "4 to 50 photos (JPEG, PNG, WebP or GIF), or one zip",
                        },
                    },
                }
            }
        },
    }
}


class LoraOut(fields_of(LoraView, exclude=("sample_asset_ids",))):  # type: ignore[misc]
    sample_urls: list[str]  # signed links to the samples, in place of their asset ids


class WebhookAccepted(BaseModel):
    received: bool
    applied: bool


def _out(session: Session, view: LoraView) -> LoraOut:
    storage = get_storage()
    urls = []
    for asset_id in view.sample_asset_ids:
        asset = session.get(Asset, asset_id)
        if asset is not None:
            urls.append(storage.presigned_get_url(asset.thumbnail_key or asset.storage_key))
    fields = {k: v for k, v in vars(view).items() if k != "sample_asset_ids"}
    return LoraOut(**fields, sample_urls=urls)


@router.post(
    "",
    status_code=202,
    response_model=LoraOut,
    summary="Train a LoRA on Fal from 4-50 photos (or one zip of them)",
    description=(
        "Multipart form: `photos` (4 to 50 images, or one zip), `trigger_word`, `steps` "
        "(100-5000, default 1000), `kind` (`subject` or `style`) and an optional `name`. "
        "The price (`GET /api/loras/price`) is reserved now, charged when the training "
        "is done and refunded if it fails or is cancelled. Answers 202; follow it with "
        "`GET /api/loras/{id}` (or `?stream=true`)."
    ),
    openapi_extra=_SUBMIT_BODY,
    # 402: not enough credits. 503: no FAL_KEY here.
    responses=error_responses(402, 429, 503)
    | UPLOAD
    | links(
        202,
        Status=("lora_status_api_loras__lora_id__get", {"lora_id": "$response.body#/id"}),
        Delete=("delete_lora_api_loras__lora_id__delete", {"lora_id": "$response.body#/id"}),
    ),
)
async def submit_lora(
    request: Request,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> LoraOut:
    await rate_limits.acheck("paid", user=user.id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_TOTAL_BYTES + 1024 * 1024:
        raise ImageTooLargeError(f"The upload is larger than {format_bytes(MAX_TOTAL_BYTES)}.")
    form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=20)
    try:
        uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
        files = [(f.filename or "photo", await f.read()) for f in uploads]
        view = await asyncio.to_thread(
            lora_training.start_training,
            session,
            user=user,
            files=files,
            trigger_word=_text(form.get("trigger_word")),
            steps=_steps(form.get("steps")),
            kind=_text(form.get("kind")) or "subject",
            name=_text(form.get("name")),
        )
    finally:
        await form.close()
    return _out(session, view)


class PriceOut(BaseModel):
    credits: int
    balance: int


@router.get("/price", response_model=PriceOut, summary="What one training costs, in credits")
def lora_price(
    user: User = Depends(current_user), session: Session = Depends(db_session)
) -> PriceOut:
    quote = lora_training.quote_training(session, user=user)
    return PriceOut(credits=quote.credits, balance=quote.balance)


@router.get("", response_model=list[LoraOut], summary="Your LoRAs, newest first")
def my_loras(
    done: bool = Query(False, description="Only trained ones (what generation can use)"),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> list[LoraOut]:
    return [_out(session, v) for v in lora_training.list_loras(session, user=user, done_only=done)]


@router.get(
    "/{lora_id:int}",
    response_model=LoraOut,
    summary="A LoRA's status and files; `?stream=true` follows it as server-sent events",
    description=(
        "With `stream=true` the answer is `text/event-stream`: one `status` event (the LoRA "
        "as JSON) now and on every change, until it finishes."
    ),
    responses=ONE_RESOURCE
    | {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
def lora_status(
    lora_id: PathId,
    stream: bool = Query(False, description="Follow it as server-sent events"),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> Any:
    view = lora_training.get_lora(session, user=user, lora_id=lora_id)
    if not stream:
        return _out(session, view)
    return StreamingResponse(
        _events(user, lora_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.delete(
    "/{lora_id:int}",
    response_model=LoraOut,
    summary="Cancel a training still running (refunded), or delete a finished LoRA",
    responses={409: {"model": ErrorOut, "description": "Fal already finished it"}} | ONE_RESOURCE,
)
def delete_lora(
    lora_id: PathId,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> LoraOut:
    return _out(session, lora_training.delete_lora(session, user=user, lora_id=lora_id))


@webhooks.post(
    "/api/webhooks/fal",
    response_model=WebhookAccepted,
    summary="Fal.ai webhook (signed by Fal with ED25519)",
    responses={401: {"model": ErrorOut, "description": "A missing, forged or old signature"}},
)
async def fal_webhook(request: Request) -> WebhookAccepted:
    # The signature covers the exact bytes Fal sent: read them raw, never re-serialize.
    body = await request.body()
    try:
        request_id = await lora_webhook.verify(get_settings(), headers=request.headers, body=body)
    except WebhookSignatureError as e:
        raise HTTPException(status_code=401, detail=e.message) from e

    def apply() -> bool:
        with session_scope() as session:
            return lora_webhook.apply_webhook(session, request_id=request_id, body=body)

    return WebhookAccepted(received=True, applied=await asyncio.to_thread(apply))


async def _events(user: User, lora_id: int) -> AsyncIterator[bytes]:
    last: str | None = None
    waited = 0.0
    since_sent = 0.0
    while waited < STREAM_LIMIT:

        def read() -> tuple[str, str]:
            with session_scope() as session:
                view = lora_training.get_lora(session, user=user, lora_id=lora_id)
                return view.status, _out(session, view).model_dump_json()

        status, text = await asyncio.to_thread(read)
        if text != last:
            yield f"event: status\ndata: {text}\n\n".encode()
            last, since_sent = text, 0.0
        if status not in ACTIVE:
            return
        if since_sent >= STREAM_KEEPALIVE:
            yield b": keep-alive\n\n"
            since_sent = 0.0
        await asyncio.sleep(STREAM_INTERVAL)
        waited += STREAM_INTERVAL
        since_sent += STREAM_INTERVAL


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _steps(value: object) -> object:
    if value is None or value == "":
        return lora_training.DEFAULT_STEPS
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 7:
        return int(value.strip())
    raise InvalidInputError(
        f"Steps must be a whole number from {lora_training.MIN_STEPS} to {lora_training.MAX_STEPS}."
    )

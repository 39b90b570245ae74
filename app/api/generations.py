"""Image generation over REST: start a run, follow it (JSON or Server-Sent Events), cancel it.

    POST   /api/generations                 202 + Location: the run, queued (credits reserved)
    GET    /api/generations                 your recent runs, newest first
    GET    /api/generations/{id}            status and each image, with signed download URLs
    GET    /api/generations/{id}?stream=true   the same as SSE: `progress` on every change,
                                            then `done` once finished, then the stream closes
    DELETE /api/generations/{id}            cancel (409 once it finished)

Thin on purpose: the services (generation/runs.py) validate, price, reserve and queue; the work
runs on the job queue, never here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ConfigDict, Field
from sqlmodel import Session

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, ONE_RESOURCE, PROVIDER, SIGNED_IN, error_responses
from app.api.models import fields_of
from app.api.openapi import JsonPromptSchema, links
from app.api.params import MAX_ID, PathId, RequestBody, RowId, Text
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.services.core.error_events import record_error
from app.services.core.errors import NotFoundError, UserFacingError, new_error_id
from app.services.core.logs import get_logger
from app.services.core.models import User
from app.services.core.storage import get_storage
from app.services.generation import runs
from app.services.generation.lora_training import MAX_LORAS, MAX_SCALE
from app.services.generation.planning import SEED_LIMIT
from app.services.generation.run_reads import image_links, recent_generations
from app.services.generation.run_records import (
    FINISHED_RUN,
    GenerationView,
    ImageStatus,
    ImageView,
)
from app.services.generation.types import MAX_IMAGES
from app.services.library.prompts import PromptValidationError

log = get_logger("api")

router = APIRouter(prefix="/api/generations", tags=["generations"], responses=COMMON | SIGNED_IN)

# The stream reads the run this often, and says something at least this often so proxies
# keep it open while nothing changes.
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0

_THIS_RUN = {"generation_id": "$response.body#/id"}
# What the docs (and the API fuzzer's first requests) start from: free, no key needed.
_EXAMPLE: dict[str, Any] = {
    "prompt": {
        "schema_version": "1.0",
        "scene": "A lighthouse on a cliff at dusk",
        "subjects": [{"type": "object", "description": "a lighthouse", "position": "center"}],
        "style": {"medium": "photograph"},
        "color_palette": [{"hex": "#1b2a49"}, {"hex": "#e8a33d"}],
        "lighting": {"conditions": "golden hour"},
        "composition": {"framing": "wide shot"},
    },
    "model": "jsoncraft/layout-preview",
    "n": 2,
    "seed": 7,
    "aspect": "16:9",
}
# Before OpenAPI 3.2 an event stream's `schema` describes one event.
_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["progress", "done", "error"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "`progress` and `done`: the generation, as without `stream`; "
            "`error`: `{detail}`",
        },
    },
}
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The generation; or, with `?stream=true`, a stream of events",
        "content": {"text/event-stream": {"schema": _EVENT_SCHEMA}},
    }
}


# --- response models --------------------------------------------------------------------------


class GenerationImageOut(fields_of(ImageView)):  # type: ignore[misc]
    url: str | None = Field(
        description="Done images: a signed download URL; the file carries the parameters"
    )
    thumbnail_url: str | None
    media_type: str | None


class GenerationOut(fields_of(GenerationView, exclude=("images",))):  # type: ignore[misc]
    images: list[GenerationImageOut]


# --- request model ----------------------------------------------------------------------------


class LoraChoice(RequestBody):
    """One of your trained LoRAs and how strongly it applies."""

    id: RowId = Field(strict=True)
    scale: float = Field(default=1.0, ge=0, le=MAX_SCALE, allow_inf_nan=False)


class GenerationCreate(RequestBody):
    """A saved prompt (`prompt_id`, optional `version`: its current one by default) or a JSON
    prompt (`prompt`), not both; the model and how many images, at what seed, aspect, style."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    prompt_id: RowId | None = Field(default=None, strict=True)
    version: int | None = Field(default=None, ge=1, le=MAX_ID, strict=True)
    prompt: Annotated[dict[str, Any], JsonPromptSchema] | None = None
    model: Text = Field(
        min_length=1, max_length=200, description="Model id or alias, e.g. flux-schnell"
    )
    n: int = Field(default=1, ge=1, le=MAX_IMAGES, strict=True, description="Images, 1-4")
    seed: int | None = Field(
        default=None, ge=0, lt=SEED_LIMIT, strict=True, description="First seed; random if unset"
    )
    aspect: Text = Field(default="1:1", min_length=1, max_length=20, description="W:H, e.g. 16:9")
    preset: Text | None = Field(default=None, max_length=120, description="A style preset")
    steps: int | None = Field(default=None, ge=1, le=100, strict=True)
    guidance: float | None = Field(default=None, ge=0, le=50, allow_inf_nan=False)
    loras: list[LoraChoice] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LORAS,
        description="Your trained LoRAs (GET /api/loras); the run then uses fal-ai/flux-lora",
    )


# --- routes -----------------------------------------------------------------------------------


@router.post(
    "",
    status_code=202,
    response_model=GenerationOut,
    summary="Generate images from a saved prompt or a JSON prompt",
    description=(
        "Validates, prices and reserves the credits of every image, then queues the run and "
        "answers 202 at once with it (`Location` is its URL). Follow it with "
        "`GET /api/generations/{id}` (or `?stream=true`); the images land in your gallery "
        "with their parameters embedded. The offline layout preview "
        "(`jsoncraft/layout-preview`) is free and needs no key."
    ),
    responses=PROVIDER
    | ONE_RESOURCE
    | links(
        202,
        Status=("get_generation_api_generations__generation_id__get", _THIS_RUN),
        Cancel=("cancel_generation_api_generations__generation_id__delete", _THIS_RUN),
    ),
)
async def start_generation(
    body: GenerationCreate,
    response: Response,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> Any:
    await rate_limits.acheck("paid", user=user.id)
    try:
        view = await asyncio.to_thread(
            runs.start_generation,
            session,
            user=user,
            model=body.model,
            prompt_id=body.prompt_id,
            version=body.version,
            prompt=body.prompt,
            n=body.n,
            seed=body.seed,
            aspect=body.aspect,
            preset=body.preset,
            steps=body.steps,
            guidance=body.guidance,
            loras=[choice.model_dump() for choice in body.loras] if body.loras else None,
        )
    except PromptValidationError as e:
        return _schema_errors(e)
    response.headers["Location"] = f"/api/generations/{view.id}"
    return await asyncio.to_thread(_out, session, view, user)


@router.get("", response_model=list[GenerationOut], summary="Your generations, newest first")
def my_generations(
    limit: int = Query(20, ge=1, le=100),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> list[GenerationOut]:
    views = recent_generations(session, user=user, limit=limit)
    return [_out(session, view, user) for view in views]


@router.get(
    "/{generation_id:int}",
    response_model=GenerationOut,
    summary="A generation's status and every image, with signed download URLs",
    description=(
        "With `?stream=true` the answer is Server-Sent Events: `progress` (the generation, as "
        "this operation answers it) every time it changes, then `done` (the same, finished) "
        "and the stream ends; comment lines keep it open while nothing changes."
    ),
    responses=_STREAM | ONE_RESOURCE,
)
async def get_generation(
    generation_id: PathId,
    stream: bool = Query(False),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> Any:
    view = await asyncio.to_thread(
        runs.get_generation, session, user=user, generation_id=generation_id
    )
    if not stream:
        return await asyncio.to_thread(_out, session, view, user)
    assert user.id is not None
    return StreamingResponse(
        progress_events(user.id, generation_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.delete(
    "/{generation_id:int}",
    response_model=GenerationOut,
    summary="Cancel a generation: images not started are refunded; the one being made finishes",
    responses=error_responses(409) | ONE_RESOURCE,
)
def cancel_generation(
    generation_id: PathId,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> GenerationOut:
    view = runs.cancel_generation(session, user=user, generation_id=generation_id)
    return _out(session, view, user)


# --- the stream -------------------------------------------------------------------------------


async def progress_events(
    user_id: int,
    generation_id: int,
    *,
    poll_seconds: float = POLL_SECONDS,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    """Server-Sent Events for one run: `progress` whenever its view changes, `done` when it
    finished (then the stream ends), `error` if it can't be read; a comment line after
    `heartbeat_seconds` of quiet. The database is read in a thread: the loop never waits."""
    last: GenerationView | None = None
    said_at = time.monotonic()
    while True:
        try:
            view, out = await asyncio.to_thread(_read, user_id, generation_id, last)
        except UserFacingError as e:
            yield _sse("error", {"detail": e.message})
            return
        except Exception as e:
            error_id = new_error_id()
            log.error("generation stream %s failed: %s", generation_id, error_id, exc_info=e)
            await asyncio.to_thread(
                record_error,
                e,
                reference=error_id,
                location=f"generation {generation_id} progress stream",
                user_id=user_id,
            )
            yield _sse("error", {"detail": "The progress could not be read.", "error_id": error_id})
            return
        if out is not None:
            finished = view.status in FINISHED_RUN
            yield _sse("done" if finished else "progress", out.model_dump(mode="json"))
            if finished:
                return
            last, said_at = view, time.monotonic()
        elif time.monotonic() - said_at >= heartbeat_seconds:
            yield b": still working\n\n"
            said_at = time.monotonic()
        await asyncio.sleep(poll_seconds)


def _read(
    user_id: int, generation_id: int, last: GenerationView | None
) -> tuple[GenerationView, GenerationOut | None]:
    """The run now, and its answer if it changed since `last` (signed URLs only then)."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError("That generation doesn't exist, or it isn't yours.")
        view = runs.get_generation(session, user=user, generation_id=generation_id)
        return view, (None if view == last else _out(session, view, user))


def _sse(event: str, payload: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


# --- shaping ----------------------------------------------------------------------------------


def _out(session: Session, view: GenerationView, user: User) -> GenerationOut:
    done = [i.asset_id for i in view.images if i.status == ImageStatus.done]
    found = image_links(session, user=user, asset_ids=done, storage=get_storage(), download=True)
    images = []
    for image in view.images:
        done_image = image.status == ImageStatus.done and image.asset_id is not None
        link = found.get(image.asset_id or 0) if done_image else None
        images.append(
            GenerationImageOut(
                **_fields(image),
                url=link.url if link else None,
                thumbnail_url=link.thumbnail_url if link else None,
                media_type=link.media_type if link else None,
            )
        )
    fields = _fields(view)
    fields.pop("images")
    return GenerationOut(**fields, images=images)


def _fields(item: object) -> dict[str, Any]:
    # Shallow on purpose: dataclasses.asdict would also turn the images into dicts.
    return {name: getattr(item, name) for name in item.__dataclass_fields__}  # type: ignore[attr-defined]


def _schema_errors(exc: PromptValidationError) -> JSONResponse:
    errors = [
        {"field": f"prompt.{e.path}" if e.path else "prompt", "message": e.message}
        for e in exc.field_errors
    ]
    return JSONResponse({"detail": exc.message, "errors": errors}, status_code=422)

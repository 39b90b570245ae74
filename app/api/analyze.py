"""`POST /api/analyze`: an image in, a JSON prompt out (JSON, or Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, PROVIDER, SIGNED_IN, UPLOAD, ErrorOut
from app.api.params import Text
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.local import LOCAL_MODEL_ID
from app.services.analyzer.providers.setup import ensure_models
from app.services.core import rate_limits
from app.services.core.errors import UserFacingError
from app.services.core.models import User
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image

router = APIRouter(prefix="/api", tags=["analyze"], responses=COMMON | SIGNED_IN)

STATUS_FOR_ERROR = 422


class AnalysisResultOut(BaseModel):
    analysis_id: int | None
    asset_id: int
    model: str
    prompt: dict[str, Any] = Field(description="The validated JSON prompt")
    notes: list[str]
    examples: list[int] = Field(description="Ids of the prompts shown to the model as examples")


class AnalysisFailedOut(ErrorOut):
    analysis_id: int | None = None


def _sse(event: str, payload: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def _store(session: Session, user: User, upload: UploadFile) -> tuple[int, ImageInput]:
    asset = ingest_image(
        session=session,
        storage=get_storage(),
        owner_id=user.id,
        stream=upload.file,
        filename=upload.filename or "upload",
    )
    session.commit()
    assert asset.id is not None
    return asset.id, ImageInput(
        data=get_storage().read_bytes(asset.storage_key), mime_type=asset.mime_type
    )


@router.post(
    "/analyze",
    summary="Analyze an image into a JSON prompt",
    description=(
        "Multipart form: `image` (JPEG, PNG, WebP, GIF), optional `model` (id or alias; default "
        "the offline analyzer) and `instructions`. With `?stream=true` the answer is Server-Sent "
        "Events: `reasoning` (text deltas), `json` (the partial prompt so far), then `done` (the "
        "validated prompt) or `error`."
    ),
    response_model=AnalysisResultOut,
    responses={
        200: {
            "description": "The JSON prompt; or, with `?stream=true`, a stream of events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        422: {
            "model": AnalysisFailedOut,
            "description": "The request is not valid, or the analysis failed (the detail says why)",
        },
    }
    | PROVIDER
    | UPLOAD,
)
async def analyze(
    request: Request,
    image: UploadFile,
    model: Text = Form(LOCAL_MODEL_ID, max_length=120),
    instructions: Text = Form("", max_length=2000),
    stream: bool = Query(False),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> Any:
    await rate_limits.acheck(
        "analyze", user=user.id, ip=request.client.host if request.client else None
    )
    ensure_models()
    asset_id, image_input = await asyncio.to_thread(_store, session, user, image)
    updates = run_analysis(
        kind="describe",
        model_id=model,
        user_id=user.id,
        image=image_input,
        asset_id=asset_id,
        instructions=instructions,
    )
    if stream:
        return StreamingResponse(
            _events(updates),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    final: Update | None = None
    async for update in updates:
        if update.kind in ("result", "error"):
            final = update
    if final is None or final.kind == "error":
        message = final.text if final else "The analysis did not finish."
        return JSONResponse(
            {"detail": message, "analysis_id": final.analysis_id if final else None},
            status_code=STATUS_FOR_ERROR,
        )
    return {
        "analysis_id": final.analysis_id,
        "asset_id": asset_id,
        "model": model,
        "prompt": final.data,
        "notes": list(final.notes),
        "examples": [e.prompt_id for e in final.examples],
    }


async def _events(updates: AsyncIterator[Update]) -> AsyncIterator[bytes]:
    try:
        async for update in updates:
            if update.kind == "reasoning":
                yield _sse("reasoning", {"text": update.text})
            elif update.kind == "partial":
                yield _sse("json", {"prompt": update.data})
            elif update.kind == "started":
                yield _sse(
                    "started",
                    {
                        "analysis_id": update.analysis_id,
                        "examples": [e.prompt_id for e in update.examples],
                    },
                )
            elif update.kind == "result":
                yield _sse(
                    "done",
                    {
                        "analysis_id": update.analysis_id,
                        "prompt": update.data,
                        "notes": list(update.notes),
                    },
                )
            elif update.kind == "error":
                yield _sse("error", {"detail": update.text, "analysis_id": update.analysis_id})
    except UserFacingError as e:
        yield _sse("error", {"detail": e.message})
    finally:
        await updates.aclose()  # type: ignore[attr-defined]

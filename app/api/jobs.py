"""Studio jobs over REST: submit images with an operations spec, follow them, download, cancel."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, ONE_RESOURCE, SIGNED_IN, UPLOAD, ErrorOut, error_responses
from app.api.openapi import links
from app.api.params import PathId, RequestBody
from app.services.billing import pricing
from app.services.core import rate_limits
from app.services.core.errors import ImageTooLargeError, InvalidInputError
from app.services.core.models import User
from app.services.core.storage import CHUNK_SIZE, content_disposition
from app.services.core.units import format_bytes
from app.services.studio import jobs
from app.services.studio.imageops.spec import parse_spec
from app.settings import get_settings

# `{job_id:int}`: only digits reach the job routes, so `/api/jobs/estimate` is never read as a job.
router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=COMMON | SIGNED_IN)

# Zips are built in memory up to this size, then on disk.
_SPOOL_MEMORY = 16 * 1024 * 1024
# The form parser's own cap on parts; the plan's limit is checked (with a clearer answer) after.
_MAX_FILES = max(plan.max_batch for plan in pricing.PLANS.values()) + 1
_SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["spec", "files"],
                    "properties": {
                        "spec": {
                            "type": "string",
                            "description": 'The operations as JSON, e.g. {"resize": '
                            '{"mode": "long_edge", "long_edge": 1024}, "convert": '
                            '{"format": "webp"}}',
                        },
                        "mode": {"type": "string", "enum": ["now", "batch"], "default": "now"},
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Images, or zip files of images",
                        },
                    },
                }
            }
        },
    }
}


class EstimateRequest(RequestBody):
    spec: dict[str, Any] = Field(description="The operations, as for `POST /api/jobs`")
    count: int = Field(ge=0, le=100_000)


@router.post(
    "",
    status_code=202,
    response_model=jobs.JobView,
    summary="Run operations on images (and zip files of images)",
    description=(
        "Multipart form: `spec` (the operations as JSON), one or more `files`, and `mode` "
        "(`now`, or `batch`: cheaper, runs after every `now` job). Answers 202 with the job; "
        "poll `GET /api/jobs/{id}`. Files that can't be used become failed items with their "
        "reason while the rest run."
    ),
    openapi_extra=_SUBMIT_BODY,
    # 402: not enough credits. 429: a plan limit (images per job, jobs at a time) or rate limit.
    responses=error_responses(402, 429)
    | UPLOAD
    | links(
        202,
        Status=("job_status_api_jobs__job_id__get", {"job_id": "$response.body#/id"}),
        Download=("download_api_jobs__job_id__download_get", {"job_id": "$response.body#/id"}),
        Cancel=("cancel_api_jobs__job_id__delete", {"job_id": "$response.body#/id"}),
    ),
)
async def submit_job(
    request: Request,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> jobs.JobView:
    await rate_limits.acheck("paid", user=user.id)
    limit = get_settings().max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        # Refused before the body is read: nothing is spooled to disk.
        raise ImageTooLargeError(f"The upload is larger than the {format_bytes(limit)} limit.")
    form = await request.form(max_files=_MAX_FILES, max_fields=20)
    try:
        spec = parse_spec(_spec_field(form.get("spec")))
        raw_mode = form.get("mode") or "now"
        if raw_mode not in jobs.MODES:
            raise InvalidInputError("The mode must be 'now' or 'batch'.")
        mode: jobs.Mode = "batch" if raw_mode == "batch" else "now"
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInputError("Attach one or more images (or zip files) as `files`.")
        jobs.check_batch_size(user, len(files))
        total = 0
        for f in files:
            total += f.size or 0
            if (f.size or 0) > limit or total > limit:
                raise ImageTooLargeError(
                    f"The upload is larger than the {format_bytes(limit)} limit."
                )
        uploads = [(f.filename or "image", f.file) for f in files]
        return await asyncio.to_thread(
            jobs.create_job, session, user=user, spec=spec, uploads=uploads, mode=mode
        )
    finally:
        await form.close()


@router.post(
    "/estimate",
    response_model=jobs.CostPreview,
    summary="What a spec costs for a number of images, per operation, in both modes",
)
def estimate(
    body: EstimateRequest,
    _user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> jobs.CostPreview:
    return jobs.estimate_cost(session, spec=parse_spec(body.spec), count=body.count)


@router.get("", response_model=list[jobs.JobView], summary="Your jobs, newest first")
def my_jobs(
    limit: int = Query(20, ge=1, le=100),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> list[jobs.JobView]:
    return jobs.list_jobs(session, user=user, limit=limit)


@router.get(
    "/{job_id:int}",
    response_model=jobs.JobView,
    summary="A job's status and every image's result, with download URLs",
    responses=ONE_RESOURCE,
)
def job_status(
    job_id: PathId,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> jobs.JobView:
    return jobs.get_job(session, user=user, job_id=job_id)


@router.get(
    "/{job_id:int}/download",
    summary="Everything finished so far as a zip (with errors.txt for images that failed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The results, as a zip",
        },
        409: {"model": ErrorOut, "description": "No image has a result yet"},
    }
    | ONE_RESOURCE,
)
def download(
    job_id: PathId,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> StreamingResponse:
    # Closed by _chunks once the response has been sent (or right here if writing fails).
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115
    try:
        filename = jobs.write_zip(session, user=user, job_id=job_id, out=spool)
        size = spool.tell()
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return StreamingResponse(
        _chunks(spool),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition(filename), "Content-Length": str(size)},
    )


@router.delete(
    "/{job_id:int}",
    response_model=jobs.JobView,
    summary="Cancel a job: at once while queued; after the current image while running",
    responses={409: {"model": ErrorOut, "description": "The job already finished"}} | ONE_RESOURCE,
)
def cancel(
    job_id: PathId,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> jobs.JobView:
    return jobs.cancel_job(session, user=user, job_id=job_id)


def _spec_field(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            'Send the operations as a JSON form field `spec`, e.g. {"convert": {"format": "webp"}}.'
        )
    return value


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_SIZE):
            yield chunk
    finally:
        spool.close()

"""Bundles over REST: import a zip of prompts, export some as a zip, list past bundles."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, ONE_RESOURCE, SIGNED_IN, ErrorOut, error_responses
from app.api.models import fields_of
from app.api.openapi import links
from app.api.params import PathId, RowId, Text
from app.services.core.errors import NotFoundError
from app.services.core.models import User
from app.services.core.storage import CHUNK_SIZE, content_disposition, get_storage
from app.services.library.bundles import (
    BundleRejectedError,
    ImportReport,
    ItemError,
    ItemRef,
    export_bundle,
    get_bundle,
    import_bundle,
    list_bundles,
)

router = APIRouter(prefix="/api/bundles", tags=["bundles"], responses=COMMON | SIGNED_IN)

# Exports are spooled in memory up to this size, then on disk.
_SPOOL_MEMORY = 16 * 1024 * 1024


class BundlePublic(BaseModel):
    id: int
    kind: str
    status: str
    filename: str
    item_count: int
    created_at: datetime
    download_url: str | None
    report: dict[str, Any]


class ItemErrorOut(fields_of(ItemError)):  # type: ignore[misc]
    pass


class ItemRefOut(fields_of(ItemRef)):  # type: ignore[misc]
    pass


class ImportReportOut(fields_of(ImportReport)):  # type: ignore[misc]
    duplicates: list[ItemRefOut]
    errors: list[ItemErrorOut] = Field(description="Items that were not valid, by index")


class BundleRejectedOut(ErrorOut):
    report: ImportReportOut | None = Field(
        default=None, description="When the zip was read: what was wrong with each item"
    )


@router.post(
    "",
    response_model=ImportReportOut,
    summary="Import a bundle (zip); all of it or, if any item is invalid, none of it",
    responses=error_responses(413)
    | {
        422: {
            "model": BundleRejectedOut,
            "description": "Not a bundle, unsafe, or items invalid (the report lists each item)",
        }
    },
)
def upload_bundle(
    file: UploadFile,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> Any:
    # A sync handler: FastAPI runs it in a thread, so unzipping and Pillow stay off the loop.
    try:
        report = import_bundle(
            session,
            storage=get_storage(),
            owner=user,
            source=file.file,
            filename=file.filename or "bundle.zip",
        )
    except BundleRejectedError as e:
        return JSONResponse({"detail": e.message, "report": e.report.as_dict()}, status_code=422)
    return report.as_dict()


@router.get(
    "",
    response_model=list[BundlePublic],
    summary="Your exports and imports",
    responses=links(
        200,
        DownloadNewest=(
            "download_again_api_bundles__bundle_id__download_get",
            {"bundle_id": "$response.body#/0/id"},
        ),
    ),
)
def bundles(
    user: User = Depends(current_user), session: Session = Depends(db_session)
) -> list[BundlePublic]:
    storage = get_storage()
    return [
        BundlePublic(
            id=b.id,
            kind=b.kind,
            status=b.status,
            filename=b.filename,
            item_count=b.item_count,
            created_at=b.created_at,
            download_url=storage.presigned_get_url(b.storage_key, download_name=b.filename)
            if b.storage_key
            else None,
            report=b.report,
        )
        for b in list_bundles(session, owner=user)
    ]


@router.get(
    "/export",
    summary="Download your prompts (or those with a tag, or the given ids) as a bundle",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The bundle, as a zip",
        }
    }
    | error_responses(404),
)
def download_export(
    tag: Text | None = Query(default=None, max_length=64),
    ids: list[RowId] | None = Query(
        default=None, max_length=1000, description="prompt ids; repeat the parameter"
    ),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> StreamingResponse:
    # Closed by _chunks once the response has been sent (or right here if the export fails).
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115
    try:
        result = export_bundle(
            session, storage=get_storage(), owner=user, out=spool, prompt_ids=ids, tag=tag
        )
        session.commit()
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return StreamingResponse(
        _chunks(spool),
        media_type="application/zip",
        headers={
            "Content-Disposition": content_disposition(result.filename),
            "Content-Length": str(result.size_bytes),
        },
    )


@router.get(
    "/{bundle_id}/download",
    summary="Download an earlier export again",
    response_class=RedirectResponse,
    status_code=307,
    responses={307: {"description": "A redirect to the zip (a short-lived signed URL)"}}
    | ONE_RESOURCE,
)
def download_again(
    bundle_id: PathId,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> RedirectResponse:
    row = get_bundle(session, owner=user, bundle_id=bundle_id)
    if not row.storage_key:
        raise NotFoundError("That bundle has no file to download.")
    url = get_storage().presigned_get_url(row.storage_key, download_name=row.filename)
    return RedirectResponse(url, status_code=307)


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_SIZE):
            yield chunk
    finally:
        spool.close()

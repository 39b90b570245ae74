"""Presigned file URLs for the local storage backend: `GET` and `PUT /api/files/{key}`.

With S3 the presigned URLs point at the bucket itself and these routes answer 404. The URL's
HMAC signature is the only credential, so every request is checked for method, key, expiry (and
the content type for uploads) before the storage is touched.
"""

from __future__ import annotations

import hashlib
import mimetypes
import tempfile
import time

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.errors import COMMON, error_responses
from app.api.params import Text
from app.services.core.errors import InvalidInputError, NotFoundError, StorageError
from app.services.core.storage import (
    MAX_PART_NUMBER,
    LocalStorage,
    Storage,
    content_disposition,
    get_storage,
)
from app.services.core.units import format_bytes
from app.settings import Settings, get_settings

# 403: the signature is wrong, or the link expired. 404: no such file, or storage is S3.
router = APIRouter(tags=["files"], responses=COMMON | error_responses(403, 404))

_SPOOL_MEMORY = 8 * 1024 * 1024
_FORBIDDEN = "This link is invalid or has expired. Ask for a new one."
_EXPIRED = "This link has expired. Ask for a new one."
_ONLY_LOCAL = "Files are served by the object store, not by this server."


def storage_dependency() -> Storage:
    return get_storage()


def settings_dependency() -> Settings:
    return get_settings()


def _local(storage: Storage) -> LocalStorage:
    if not isinstance(storage, LocalStorage):
        raise HTTPException(status_code=404, detail=_ONLY_LOCAL)
    return storage


class StoredFile(BaseModel):
    key: str
    size: int


_EXPIRES = Query(None, max_length=20, description="Unix time the link stops working")
_SIG = Query(None, max_length=200, description="The link's signature")


@router.get(
    "/api/files/{key:path}",
    summary="A stored file, by a signed link from another answer",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, with its own content type",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def get_file(
    key: Text,
    expires: Text | None = _EXPIRES,
    sig: Text | None = _SIG,
    name: Text | None = Query(None, max_length=300, description="Download file name"),
    storage: Storage = Depends(storage_dependency),
) -> StreamingResponse:
    local = _local(storage)
    if not local.verify_signature("GET", key, expires, sig, download_name=name):
        raise HTTPException(status_code=403, detail=_FORBIDDEN)
    try:
        size = local.size(key)
        chunks = local.open_stream(key)
    except (NotFoundError, InvalidInputError) as e:
        raise HTTPException(status_code=404, detail="The file was not found.") from e
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    max_age = max(0, int(expires or 0) - int(time.time()))
    headers = {
        "Content-Length": str(size),
        # Private: the URL is a bearer credential, shared caches must not keep the file.
        "Cache-Control": f"private, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
        # Stored files are user content: never let one run script on the API's origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if name:
        headers["Content-Disposition"] = content_disposition(name)
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


@router.put(
    "/api/files/{key:path}",
    response_model=StoredFile,
    summary="Upload a file (or one part of a multipart upload) to a presigned link",
    description=(
        "The raw bytes are the body. With `upload_id` and `part_number` in the link, the body "
        "is one part of a multipart upload. The `ETag` header of the answer is the MD5 of the "
        "bytes received, as S3 answers it: list it when completing a multipart upload."
    ),
    # 400: the key or content can't be stored. 413: larger than the upload limit.
    responses=error_responses(400, 413)
    | {
        200: {"headers": {"ETag": {"description": "MD5 of the body", "schema": {"type": "string"}}}}
    },
)
async def put_file(
    key: Text,
    request: Request,
    response: Response,
    expires: Text | None = _EXPIRES,
    sig: Text | None = _SIG,
    upload_id: Text | None = Query(None, max_length=64, description="A multipart upload's id"),
    part_number: int | None = Query(None, ge=1, le=MAX_PART_NUMBER, description="The part"),
    storage: Storage = Depends(storage_dependency),
    settings: Settings = Depends(settings_dependency),
) -> StoredFile:
    local = _local(storage)
    content_type = request.headers.get("content-type", "")
    if upload_id is not None or part_number is not None:
        if upload_id is None or part_number is None:
            raise HTTPException(status_code=403, detail=_FORBIDDEN)

        def signed(now: float | None) -> bool:
            assert upload_id is not None and part_number is not None
            return local.verify_part_signature(
                key, upload_id=upload_id, part_number=part_number, expires=expires, sig=sig, now=now
            )
    else:

        def signed(now: float | None) -> bool:
            return local.verify_signature("PUT", key, expires, sig, content_type, now=now)

    if not signed(None):
        # Checked again as of the epoch: a signature that is ours but past its time expired.
        raise HTTPException(status_code=403, detail=_EXPIRED if signed(0) else _FORBIDDEN)
    limit = settings.max_upload_bytes
    too_large = HTTPException(
        status_code=413, detail=f"The file is larger than the {format_bytes(limit)} limit."
    )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    # Spool the body (memory, then disk) while counting, so a lying or missing Content-Length
    # cannot push more than the limit, and the blocking write runs off the event loop.
    digest = hashlib.md5(usedforsecurity=False)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise too_large
            digest.update(chunk)
            await run_in_threadpool(spool.write, chunk)
        spool.seek(0)
        try:
            if upload_id is not None and part_number is not None:
                await run_in_threadpool(
                    lambda: local.put_part(
                        key,
                        upload_id=upload_id,
                        part_number=part_number,
                        stream=spool,  # type: ignore[arg-type]
                    )
                )
                size = received
            else:
                size = await run_in_threadpool(
                    local.put_stream,
                    key,
                    spool,  # type: ignore[arg-type]
                    content_type=content_type,
                )
        except NotFoundError as e:
            raise HTTPException(status_code=404, detail=e.message) from e
        except InvalidInputError as e:
            raise HTTPException(status_code=400, detail=e.message) from e
        except StorageError as e:
            raise HTTPException(status_code=500, detail="The file could not be stored.") from e
    response.headers["ETag"] = f'"{digest.hexdigest()}"'
    return StoredFile(key=key, size=size)

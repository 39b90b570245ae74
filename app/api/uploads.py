"""The upload API: presigned uploads to a project, completing them, the upload log, client tokens.

    POST   /api/uploads                   presign: one PUT URL (or part URLs) per file  [upload]
    POST   /api/uploads/{id}/complete     check the stored file: ready or rejected      [upload]
    GET    /api/uploads                   the upload log, filtered, in keyset pages     [read]
    GET    /api/uploads/{id}              one upload, with a signed download URL        [read]
    DELETE /api/uploads/{id}              the object, its thumbnail and the row         [manage]
    POST   /api/uploads/client-tokens     a short-lived token for browsers              [upload]

Auth is `Authorization: Bearer <project secret key>` (jc_...), acting for the key's project with
its scopes. A client token (jct_...) is accepted by the first two operations only. DELETE takes
`manage`, not `upload`: keys handed to ingestion jobs (and browsers' client tokens) can add
files but never destroy the project's library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request, Security
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.convertors import Convertor, register_url_convertor

from app.api.deps import bearer_scheme
from app.api.errors import COMMON, error_responses
from app.api.openapi import links
from app.api.params import IsoDate, RequestBody, Text
from app.services.accounts.api_keys import KeyAuth, authenticate_project_key
from app.services.core.db import session_scope
from app.services.core.errors import AuthenticationError
from app.services.uploads import client_tokens, records
from app.services.uploads.complete import complete_upload
from app.services.uploads.file_types import MIME_PATTERN
from app.services.uploads.presign import (
    MAX_FILES_PER_REQUEST,
    FileRequest,
    PresignedUpload,
    presign_uploads,
)
from app.services.uploads.views import upload_data

T = TypeVar("T")
router = APIRouter(prefix="/api/uploads", tags=["uploads"], responses=COMMON)


class UploadIdConvertor(Convertor[str]):
    """Only `up_...` reaches the `{upload_id}` routes, so `/api/uploads/client-tokens` is never
    read as an upload (and its 405 names only POST)."""

    regex = r"up_[A-Za-z0-9_-]{1,37}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("upload_id", UploadIdConvertor())

# 401: no live key. 403: the key lacks the operation's scope.
_AUTH = error_responses(401, 403)
_ONE = error_responses(404)
UploadId = Annotated[
    str,
    Path(
        pattern=r"^up_[A-Za-z0-9_-]{1,37}$",
        max_length=40,
        description="The upload's id (`up_...`)",
    ),
]
_THIS_UPLOAD = {"upload_id": "$response.body#/uploads/0/id"}
_THE_UPLOAD = {"upload_id": "$response.body#/id"}


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


# Who may call: a secret key with the scope, or (UPLOADER) also a client token minted by one.
UPLOADER = "upload-or-client-token"


def _authenticate(session: Session, token: str | None, scope: str) -> KeyAuth:
    if scope != UPLOADER:
        return authenticate_project_key(session, token, scope=scope)
    if token and token.startswith(client_tokens.PREFIX):
        return client_tokens.authenticate_client_token(session, token)
    try:
        return authenticate_project_key(session, token, scope="upload")
    except AuthenticationError as e:
        raise AuthenticationError(
            "Send a project secret key (jc_...) or a client token (jct_...) as "
            "'Authorization: Bearer ...'."
        ) from e


async def _as_project(request: Request, scope: str, work: Callable[[Session, KeyAuth], T]) -> T:
    """Authenticate and do the work in one thread, in one session committed at its end.

    A session held from a dependency to the handler would keep its connection while the
    request waits for a thread: with more clients than the pool has connections (50 clients
    presigning at once), every thread then waits on the pool and none gives one back."""
    token = _bearer(request)

    def run() -> T:
        with session_scope() as session:
            return work(session, _authenticate(session, token, scope))

    return await asyncio.to_thread(run)


# --- request and response models -------------------------------------------------------------


class FileIn(RequestBody):
    name: Text = Field(min_length=1, max_length=1000, description="The file's name")
    size: int = Field(ge=1, le=2**53, strict=True, description="Bytes, exactly")
    type: str = Field(pattern=MIME_PATTERN, max_length=127, description="MIME type, e.g. image/png")


class PresignIn(RequestBody):
    model_config = {
        "json_schema_extra": {
            "examples": [{"files": [{"name": "photo.png", "size": 48213, "type": "image/png"}]}]
        }
    }
    files: list[FileIn] = Field(min_length=1, max_length=MAX_FILES_PER_REQUEST)


class PartOut(BaseModel):
    part_number: int
    url: str


class MultipartOut(BaseModel):
    upload_id: str = Field(description="The store's multipart upload id")
    part_size: int = Field(description="Bytes per part (the last one may be shorter)")
    parts: list[PartOut]


class PresignedOut(BaseModel):
    id: str
    key: str
    url: str = Field(description="PUT the file's bytes here (multipart: the first part's URL)")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="Headers the PUT must carry")
    expires_at: datetime
    multipart: MultipartOut | None = Field(
        default=None, description="Files over 64 MiB: PUT each part to its URL, keep its ETag"
    )


class PresignOut(BaseModel):
    uploads: list[PresignedOut]


class PartIn(RequestBody):
    part_number: int = Field(ge=1, le=10_000, strict=True)
    etag: Text = Field(min_length=1, max_length=200, description="The part PUT's ETag header")


class CompleteIn(RequestBody):
    parts: list[PartIn] | None = Field(
        default=None, max_length=10_000, description="Multipart uploads only: every part"
    )


class UploadOut(BaseModel):
    id: str
    project_id: int
    key: str
    name: str
    size: int
    type: str
    status: Literal["pending", "ready", "rejected", "quarantined"]
    reason: str | None = Field(description="Why it was rejected")
    scan_status: str
    sha256: str | None
    width: int | None
    height: int | None
    thumbhash: str | None
    created_at: str
    completed_at: str | None
    expires_at: str | None


class UploadWithLinksOut(UploadOut):
    url: str | None = Field(description="Ready files: a signed download URL")
    thumbnail_url: str | None


class UploadPageOut(BaseModel):
    uploads: list[UploadOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class ClientTokenIn(RequestBody):
    expires_in: int = Field(
        default=client_tokens.DEFAULT_EXPIRES_IN,
        ge=client_tokens.MIN_EXPIRES_IN,
        le=client_tokens.MAX_EXPIRES_IN,
        strict=True,
        description="Seconds the token lives",
    )


class ClientTokenOut(BaseModel):
    token: str = Field(description="`jct_...`: send as `Authorization: Bearer` from a browser")
    expires_at: datetime


# --- routes -----------------------------------------------------------------------------------


@router.post(
    "",
    response_model=PresignOut,
    summary="Presign uploads: one PUT URL (or part URLs) per file",
    description=(
        "Checks every file against the project (allowed types, `max_file_size`, "
        "`max_files_per_upload`) and the plan (file size cap, monthly uploads, request rate). "
        "PUT each file's bytes to its `url` with its `headers`, then call `complete`. Files over "
        "64 MiB get a multipart upload: PUT each part to its URL and list the ETags at complete."
    ),
    responses=_AUTH
    | error_responses(413, 415, 429)
    | links(200, Complete=("complete_api_uploads__upload_id__complete_post", _THIS_UPLOAD)),
)
async def presign(
    body: PresignIn, request: Request, _bearer_declared: object = Security(bearer_scheme)
) -> PresignOut:
    files = [FileRequest(name=f.name, size=f.size, type=f.type) for f in body.files]
    answers = await _as_project(
        request, UPLOADER, lambda session, auth: presign_uploads(session, auth, files)
    )
    return PresignOut(uploads=[_presigned_out(a) for a in answers])


@router.post(
    "/client-tokens",
    status_code=201,
    response_model=ClientTokenOut,
    summary="Mint a short-lived client token for a browser",
    description=(
        "Call this from your server with the secret key; hand the token to the browser. It "
        "can only presign and complete uploads to this project, and dies with the key."
    ),
    responses=_AUTH,
)
async def mint_client_token(
    request: Request,
    body: ClientTokenIn | None = None,
    _bearer_declared: object = Security(bearer_scheme),
) -> ClientTokenOut:
    expires_in = (body or ClientTokenIn()).expires_in
    minted = await _as_project(
        request,
        "upload",
        lambda _session, auth: client_tokens.mint_client_token(auth, expires_in=expires_in),
    )
    return ClientTokenOut(token=minted.token, expires_at=minted.expires_at)


@router.post(
    "/{upload_id:upload_id}/complete",
    response_model=UploadOut,
    summary="Complete an upload: check the stored file, answer ready or rejected",
    description=(
        "HEADs the stored object (its size must equal the declared size) and sniffs its first "
        "bytes (the type must be allowed and of the declared family). `rejected` uploads carry "
        "a `reason` and their object is deleted. Completing again answers the same result. "
        "409 while nothing is stored yet."
    ),
    responses=_AUTH
    | _ONE
    | error_responses(409)
    | links(200, Get=("get_upload_api_uploads__upload_id__get", _THE_UPLOAD)),
)
async def complete(
    upload_id: UploadId,
    request: Request,
    body: CompleteIn | None = None,
    _bearer_declared: object = Security(bearer_scheme),
) -> UploadOut:
    parts = [(p.part_number, p.etag) for p in body.parts] if body and body.parts else None

    def work(session: Session, auth: KeyAuth) -> dict[str, Any]:
        return upload_data(complete_upload(session, auth, upload_id, parts=parts))

    return UploadOut(**await _as_project(request, UPLOADER, work))


@router.get(
    "",
    response_model=UploadPageOut,
    summary="The upload log: filter and page through the project's uploads, newest first",
    responses=_AUTH,
)
async def list_uploads(
    request: Request,
    status: Literal["pending", "ready", "rejected", "quarantined"] | None = Query(None),
    type: Text | None = Query(
        None, max_length=127, description="A MIME type, or a family such as image/*"
    ),
    name: Text | None = Query(None, max_length=255, description="Part of the file name"),
    created_after: IsoDate | None = Query(None, description="ISO 8601; inclusive"),
    created_before: IsoDate | None = Query(None, description="ISO 8601; exclusive"),
    cursor: Text | None = Query(None, max_length=500, description="From `next_cursor`"),
    limit: int = Query(50, ge=1, le=records.MAX_PAGE),
    _bearer_declared: object = Security(bearer_scheme),
) -> UploadPageOut:
    filters = records.UploadFilters(
        status=status,
        type=type,
        name=name,
        created_after=_moment(created_after),
        created_before=_moment(created_before),
    )

    def work(session: Session, auth: KeyAuth) -> UploadPageOut:
        page = records.list_uploads(session, auth, filters=filters, limit=limit, cursor=cursor)
        return UploadPageOut(
            uploads=[UploadOut(**upload_data(u)) for u in page.uploads],
            next_cursor=page.next_cursor,
        )

    return await _as_project(request, "read", work)


@router.get(
    "/{upload_id:upload_id}",
    response_model=UploadWithLinksOut,
    summary="One upload, with a signed download URL once it is ready",
    responses=_AUTH | _ONE,
)
async def get_upload(
    upload_id: UploadId, request: Request, _bearer_declared: object = Security(bearer_scheme)
) -> UploadWithLinksOut:
    data = await _as_project(
        request, "read", lambda session, auth: records.get_upload(session, auth, upload_id)
    )
    return UploadWithLinksOut(**data)


@router.delete(
    "/{upload_id:upload_id}",
    response_model=UploadOut,
    summary="Delete an upload: its file, thumbnail and record (needs the `manage` scope)",
    responses=_AUTH | _ONE,
)
async def delete_upload(
    upload_id: UploadId, request: Request, _bearer_declared: object = Security(bearer_scheme)
) -> UploadOut:
    data = await _as_project(
        request, "manage", lambda session, auth: records.delete_upload(session, auth, upload_id)
    )
    return UploadOut(**data)


# --- shaping ----------------------------------------------------------------------------------


def _presigned_out(answer: PresignedUpload) -> PresignedOut:
    multipart = None
    if answer.multipart is not None:
        multipart = MultipartOut(
            upload_id=answer.multipart.upload_id,
            part_size=answer.multipart.part_size,
            parts=[PartOut(part_number=p.part_number, url=p.url) for p in answer.multipart.parts],
        )
    return PresignedOut(
        id=answer.id,
        key=answer.key,
        url=answer.url,
        method="PUT",
        headers=answer.headers,
        expires_at=answer.expires_at,
        multipart=multipart,
    )


def _moment(value: Any) -> datetime | None:
    """A day means its start (UTC); a naive moment is UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    assert isinstance(value, date)
    return datetime.combine(value, time.min, tzinfo=UTC)

"""The prompt library over REST: list/search, read, create, save a version, history, share links.

Thin on purpose: parse, call gallery / prompt_ops / library, shape the answer. Every permission
check happens in the services. Two answers carry more than `detail`:

- 409 on PUT when the edit was based on a stale version: `current_version` and `current_data`
  hold the server's latest, so a client can show a diff and retry on top of it.
- 422 when the JSON prompt fails the schema: `errors` lists each field (`data.scene`, ...).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import OPTIONAL_AUTH, current_user, db_session, optional_user
from app.api.errors import COMMON, ONE_RESOURCE, SIGNED_IN, ErrorOut, error_responses
from app.api.models import fields_of
from app.api.openapi import JsonPromptSchema, links
from app.api.params import IsoDate, PathId, RequestBody, RowId, Text
from app.services.core.errors import VersionConflictError
from app.services.core.models import User
from app.services.core.storage import get_storage
from app.services.images.ownership import owned_asset
from app.services.library import gallery, prompt_ops
from app.services.library.prompts import PromptValidationError
from app.services.library.writes import create_prompt

router = APIRouter(prefix="/api", tags=["prompts"], responses=COMMON)

_THIS_PROMPT = {"prompt_id": "$response.body#/id"}
# From an answer that holds a prompt to the operations on it.
_PROMPT_LINKS = {
    "GetPrompt": ("get_prompt_api_prompts__prompt_id__get", _THIS_PROMPT),
    "SaveVersion": ("put_prompt_api_prompts__prompt_id__put", _THIS_PROMPT),
    "Versions": ("get_versions_api_prompts__prompt_id__versions_get", _THIS_PROMPT),
}


# --- response models --------------------------------------------------------------------------


class PromptCardOut(fields_of(gallery.PromptCard)):  # type: ignore[misc]
    pass


class PromptPageOut(BaseModel):
    items: list[PromptCardOut]
    next_cursor: str | None


class VersionOut(fields_of(prompt_ops.VersionSummary)):  # type: ignore[misc]
    pass


class AnalysisOut(
    fields_of(prompt_ops.AnalysisView, exclude=("latency_ms", "cost_credits"))  # type: ignore[misc]
):
    pass


class PromptOut(BaseModel):
    id: int
    title: str
    owner_id: int
    model: str
    style: str
    visibility: str
    is_favorite: bool
    rating: int | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    tags: list[str]
    current_version: int
    data: dict[str, Any]
    versions: list[VersionOut]
    asset_id: int | None
    image_url: str
    thumbnail_url: str
    origin: AnalysisOut | None
    analyses: list[AnalysisOut]
    can_edit: bool
    can_manage: bool


class SharedPromptOut(fields_of(prompt_ops.SharedPrompt)):  # type: ignore[misc]
    pass


# --- request models ---------------------------------------------------------------------------


class PromptCreate(RequestBody):
    title: str = Field(min_length=1, max_length=200)
    data: Annotated[dict[str, Any], JsonPromptSchema]
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=30)
    visibility: Literal["private", "public"] = "private"
    asset_id: RowId | None = None
    model: str = Field(default="", max_length=120)
    style: str = Field(default="", max_length=120)


class VersionSave(RequestBody):
    data: Annotated[dict[str, Any], JsonPromptSchema]
    message: str = Field(default="", max_length=500)
    base_version: RowId


class VersionConflictOut(ErrorOut):
    current_version: int
    current_data: dict[str, Any]


# --- helpers ----------------------------------------------------------------------------------


def _schema_errors(exc: PromptValidationError) -> JSONResponse:
    errors = [
        {"field": f"data.{e.path}" if e.path else "data", "message": e.message}
        for e in exc.field_errors
    ]
    return JSONResponse({"detail": exc.message, "errors": errors}, status_code=422)


def _day_start(value: date | datetime | None, *, next_day: bool = False) -> datetime | None:
    """A bare date means the whole day (UTC): from its start, or up to the next day's start."""
    if value is None or isinstance(value, datetime):
        return value
    start = datetime.combine(value, time(0), tzinfo=UTC)
    return start + timedelta(days=1) if next_day else start


def _detail_out(detail: prompt_ops.PromptDetail) -> PromptOut:
    p = detail.prompt

    def analysis(a: prompt_ops.AnalysisView) -> AnalysisOut:
        return AnalysisOut(
            id=a.id,
            kind=a.kind,
            provider=a.provider,
            model=a.model,
            status=a.status,
            reasoning=a.reasoning,
            created_at=a.created_at,
        )

    return PromptOut(
        id=p.id or 0,
        title=p.title,
        owner_id=p.owner_id,
        model=p.model,
        style=p.style,
        visibility=p.visibility,
        is_favorite=p.is_favorite,
        rating=p.rating,
        created_at=p.created_at,
        updated_at=p.updated_at,
        deleted_at=p.deleted_at,
        tags=detail.tags,
        current_version=detail.current_version,
        data=detail.data,
        versions=[VersionOut(**vars(v)) for v in detail.versions],
        asset_id=p.asset_id,
        image_url=detail.image_url,
        thumbnail_url=detail.thumbnail_url,
        origin=analysis(detail.origin) if detail.origin else None,
        analyses=[analysis(a) for a in detail.analyses],
        can_edit=detail.can_edit,
        can_manage=detail.can_manage,
    )


# --- routes -----------------------------------------------------------------------------------


@router.get(
    "/prompts",
    response_model=PromptPageOut,
    summary="List and search prompts",
    openapi_extra=OPTIONAL_AUTH,
)
def list_prompts(
    text: Text = Query("", max_length=500, description="Words to find in title, tags and prompt"),
    tags: list[Annotated[Text, Field(max_length=64)]] = Query(
        [], max_length=30, description="Repeat for more; all must match"
    ),
    owner: str | None = Query(None, pattern=r"^(me|public|\d+)$"),
    date_from: IsoDate | None = Query(None, description="Inclusive; a date = from 00:00"),
    date_to: IsoDate | None = Query(None, description="Exclusive; a date = whole day"),
    model: Text = Query("", max_length=120),
    style: Text = Query("", max_length=120),
    origin: Literal["", "analyzed", "generated"] = Query(
        "", description="analyzed: JSON read from an image; generated: images made from a prompt"
    ),
    favorites_only: bool = False,
    include_trash: bool = False,
    trash_only: bool = False,
    cursor: Text | None = Query(None, max_length=200),
    limit: int = Query(24, ge=1, le=100),
    viewer: User | None = Depends(optional_user),
    session: Session = Depends(db_session),
) -> PromptPageOut:
    query = gallery.GalleryQuery(
        text=text,
        tags=tuple(tags),
        owner=int(owner) if owner and owner.isdigit() else owner,
        date_from=_day_start(date_from),
        date_to=_day_start(date_to, next_day=True),
        model=model,
        style=style,
        origin=origin,
        favorites_only=favorites_only,
        include_trash=include_trash,
        trash_only=trash_only,
    )
    page = gallery.list_prompts(
        session, storage=get_storage(), viewer=viewer, query=query, limit=limit, cursor=cursor
    )
    return PromptPageOut(
        items=[PromptCardOut(**vars(card)) for card in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/prompts/{prompt_id}",
    response_model=PromptOut,
    summary="One prompt, in full",
    responses=ONE_RESOURCE,
    openapi_extra=OPTIONAL_AUTH,
)
def get_prompt(
    prompt_id: PathId,
    viewer: User | None = Depends(optional_user),
    session: Session = Depends(db_session),
) -> PromptOut:
    detail = prompt_ops.get_prompt_detail(
        session, prompt_id=prompt_id, viewer=viewer, storage=get_storage()
    )
    return _detail_out(detail)


@router.post(
    "/prompts",
    response_model=PromptOut,
    status_code=201,
    summary="Save a new prompt",
    description="A JSON prompt that fails the schema is refused with 422, field by field.",
    # 404: the asset_id names no image of yours.
    responses=SIGNED_IN | ONE_RESOURCE | links(201, **_PROMPT_LINKS),
)
def post_prompt(
    body: PromptCreate,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> PromptOut | JSONResponse:
    assert user.id is not None
    if body.asset_id is not None:
        owned_asset(session, user_id=user.id, asset_id=body.asset_id)
    try:
        prompt = create_prompt(
            session,
            owner_id=user.id,
            title=body.title,
            data=body.data,
            asset_id=body.asset_id,
            model=body.model,
            style=body.style,
            visibility=body.visibility,
            tags=body.tags,
        )
    except PromptValidationError as e:
        return _schema_errors(e)
    session.commit()
    assert prompt.id is not None
    detail = prompt_ops.get_prompt_detail(
        session, prompt_id=prompt.id, viewer=user, storage=get_storage()
    )
    return _detail_out(detail)


@router.put(
    "/prompts/{prompt_id}",
    response_model=PromptOut,
    summary="Save a new version (optimistic: send the version you edited)",
    responses=SIGNED_IN
    | error_responses(403, 404)
    | {
        409: {
            "model": VersionConflictOut,
            "description": "Someone saved first; the body holds current_version/current_data",
        }
    },
)
def put_prompt(
    prompt_id: PathId,
    body: VersionSave,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> PromptOut | JSONResponse:
    try:
        prompt_ops.save_version(
            session,
            prompt_id=prompt_id,
            data=body.data,
            author=user,
            message=body.message,
            base_version=body.base_version,
        )
    except VersionConflictError as e:
        return JSONResponse(
            {
                "detail": e.message,
                "current_version": e.current_version,
                "current_data": e.current_data,
            },
            status_code=409,
        )
    except PromptValidationError as e:
        return _schema_errors(e)
    session.commit()
    detail = prompt_ops.get_prompt_detail(
        session, prompt_id=prompt_id, viewer=user, storage=get_storage()
    )
    return _detail_out(detail)


@router.get(
    "/prompts/{prompt_id}/versions",
    response_model=list[VersionOut],
    summary="Version history, newest first",
    responses=ONE_RESOURCE,
    openapi_extra=OPTIONAL_AUTH,
)
def get_versions(
    prompt_id: PathId,
    viewer: User | None = Depends(optional_user),
    session: Session = Depends(db_session),
) -> list[VersionOut]:
    return [
        VersionOut(**vars(v))
        for v in prompt_ops.list_versions(session, prompt_id=prompt_id, viewer=viewer)
    ]


@router.get(
    "/share/{token}",
    response_model=SharedPromptOut,
    summary="A prompt shared by link (read-only, no sign-in)",
    responses=ONE_RESOURCE,
)
def get_shared(
    token: Annotated[Text, PathParam(max_length=200)], session: Session = Depends(db_session)
) -> SharedPromptOut:
    shared = prompt_ops.get_shared(session, token=token, storage=get_storage())
    return SharedPromptOut(**vars(shared))

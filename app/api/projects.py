"""A project's upload rules over REST: read them, change any of them.

Either the project's own secret key (`manage` to change, `read` or `manage` to read) or its
owner's session. Another project's id answers 404, like a missing one, whichever key asks.
A file size over the plan's cap is a 422 naming the cap: the request is a setting that is not
allowed, not a body too large to read (what 413 means, and what clients retry smaller).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import bearer_scheme, cookie_scheme, db_session, session_token
from app.api.errors import COMMON, ONE_RESOURCE, error_responses
from app.api.params import PathId, RequestBody
from app.services.accounts.api_keys import PREFIX as API_KEY_PREFIX
from app.services.accounts.api_keys import authenticate_project_key
from app.services.accounts.auth import user_for_token
from app.services.core.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from app.services.core.models import User
from app.services.uploads.ownership import get_owned_project
from app.services.uploads.project_config import (
    MAX_EXPIRE_DAYS,
    MAX_FILES_PER_UPLOAD,
    MAX_TYPES,
    ConfigFieldError,
    config_of,
    update_config,
)
from app.services.uploads.projects import project_owner

router = APIRouter(
    prefix="/api/projects",
    tags=["projects"],
    responses=COMMON | error_responses(401, 403) | ONE_RESOURCE,
)


class ProjectOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    allowed_types: list[str] = Field(description="MIME types or `type/*`; empty allows any type")
    max_file_size: int = Field(description="Bytes, at most the plan's cap")
    max_files_per_upload: int
    expire_after_days: int | None = Field(description="`null`: files are kept until deleted")
    acl: Literal["private", "public-read"]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


MimeTypes = Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=MAX_TYPES)]
FileSize = Annotated[int, Field(ge=1, le=2**53)]
FileCount = Annotated[int, Field(ge=1, le=MAX_FILES_PER_UPLOAD)]
Days = Annotated[int, Field(ge=1, le=MAX_EXPIRE_DAYS)]
Acl = Literal["private", "public-read"]


class ProjectConfigPatch(RequestBody):
    """Any of the upload rules; the ones left out stay as they are."""

    # A None default that is never validated: leaving a field out keeps it as it is, and only
    # expiry may be sent as `null` (the others are refused like any value of the wrong type).
    allowed_types: MimeTypes = Field(  # type: ignore[assignment]
        None,
        description="MIME types (`image/png`) or wildcards (`image/*`); `[]` allows any type",
        json_schema_extra=_no_default,
    )
    max_file_size: FileSize = Field(  # type: ignore[assignment]
        None,
        description="Bytes; at most the plan's cap (a larger value is a 422 naming the cap)",
        json_schema_extra=_no_default,
    )
    max_files_per_upload: FileCount = Field(  # type: ignore[assignment]
        None, json_schema_extra=_no_default
    )
    expire_after_days: Days | None = Field(
        None,
        description="Files are deleted this many days after upload; `null` keeps them",
        json_schema_extra=_no_default,
    )
    acl: Acl = Field(  # type: ignore[assignment]
        None,
        description="`private`: signed links; `public-read`: public URLs",
        json_schema_extra=_no_default,
    )


def _acting_owner(
    request: Request, session: Session, project_id: int, *, scopes: tuple[str, ...]
) -> User:
    """The owner to act for: by the project's own key with one of `scopes`, or their session."""
    token = session_token(request)
    if token and token.startswith(API_KEY_PREFIX):
        denied: PermissionDeniedError | None = None
        for scope in scopes:
            try:
                auth = authenticate_project_key(session, token, scope=scope)
            except PermissionDeniedError as e:
                denied = denied or e
                continue
            if auth.project_id != project_id:
                raise NotFoundError("No such project.")
            return project_owner(session, project_id=project_id)
        assert denied is not None
        raise denied
    user = user_for_token(session, token)
    if user is None:
        raise AuthenticationError(
            "Send the project's secret key as 'Authorization: Bearer jc_...', or sign in."
        )
    get_owned_project(session, owner=user, project_id=project_id)
    return user


@router.get("/{project_id:int}", response_model=ProjectOut, summary="A project's upload rules")
def get_project(
    project_id: PathId,
    request: Request,
    session: Session = Depends(db_session),
    _bearer: object = Security(bearer_scheme),
    _cookie: object = Security(cookie_scheme),
) -> Any:
    owner = _acting_owner(request, session, project_id, scopes=("read", "manage"))
    return config_of(get_owned_project(session, owner=owner, project_id=project_id))


@router.patch(
    "/{project_id:int}",
    response_model=ProjectOut,
    summary="Change any of a project's upload rules",
    description=(
        "Send any of `allowed_types`, `max_file_size` (bytes), `max_files_per_upload`, "
        "`expire_after_days` (`null` = never) and `acl`. All change, or none does: a 422 "
        "names the field and what is allowed (for `max_file_size`, the plan's cap). Needs the "
        "project's key with the `manage` scope, or the owner's session."
    ),
)
def patch_project(
    project_id: PathId,
    body: ProjectConfigPatch,
    request: Request,
    session: Session = Depends(db_session),
    _bearer: object = Security(bearer_scheme),
    _cookie: object = Security(cookie_scheme),
) -> Any:
    owner = _acting_owner(request, session, project_id, scopes=("manage",))
    try:
        project = update_config(
            session, owner=owner, project_id=project_id, changes=body.model_dump(exclude_unset=True)
        )
    except ConfigFieldError as e:  # nothing was changed
        return JSONResponse(
            {"detail": e.message, "errors": [{"field": e.field, "message": e.message}]},
            status_code=422,
        )
    return config_of(project)

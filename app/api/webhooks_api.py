"""A project's webhook endpoints over REST.

    POST   /api/projects/{id}/webhooks                201 {"id", "secret"}: the secret, shown once
    GET    /api/projects/{id}/webhooks                the endpoints and their status
    DELETE /api/projects/{id}/webhooks/{endpoint_id}  204, with its deliveries and their log

Either a project secret key with the "manage" scope (for its own project) or the owner's
session. Another project's id is 404, like a missing one. The services (webhooks/endpoints.py)
check the URL (http(s), no credentials, public addresses only) and the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response, Security
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import bearer_scheme, cookie_scheme, db_session, session_token
from app.api.errors import COMMON, ONE_RESOURCE, error_responses
from app.api.params import PathId, RequestBody, Text
from app.services.accounts.api_keys import PREFIX as API_KEY_PREFIX
from app.services.accounts.api_keys import authenticate_project_key
from app.services.accounts.auth import user_for_token
from app.services.core.errors import AuthenticationError, NotFoundError
from app.services.uploads.ownership import get_owned_project
from app.services.webhooks import endpoints
from app.services.webhooks.destinations import MAX_URL_LENGTH

router = APIRouter(
    prefix="/api/projects/{project_id}/webhooks",
    tags=["webhooks"],
    responses=COMMON | error_responses(401, 403) | ONE_RESOURCE,
)

EventName = Literal[
    "upload.completed", "upload.rejected", "upload.infected", "upload.expired", "upload.deleted"
]


def managed_project(
    project_id: PathId,
    request: Request,
    session: Session = Depends(db_session),
    _bearer: object = Security(bearer_scheme),
    _cookie: object = Security(cookie_scheme),
) -> int:
    """The project id, once the caller may manage it: its own key with the "manage" scope,
    or its owner signed in."""
    token = session_token(request)
    if token and token.startswith(API_KEY_PREFIX):
        auth = authenticate_project_key(session, token, scope="manage")
        if auth.project_id != project_id:
            raise NotFoundError("No such project.")
        return project_id
    user = user_for_token(session, token)
    if user is None:
        raise AuthenticationError(
            "Send a project key with the 'manage' scope, or sign in as the project's owner."
        )
    get_owned_project(session, owner=user, project_id=project_id)
    return project_id


class EndpointIn(RequestBody):
    url: Annotated[Text, Field(min_length=1, max_length=MAX_URL_LENGTH)] = Field(
        description="Where events are POSTed: http(s), a public address, no credentials",
        examples=["https://example.com/webhooks/jsoncraft"],
    )
    events: list[EventName] = Field(
        min_length=1,
        max_length=5,
        description="The events to send",
        examples=[["upload.completed"]],
    )


class EndpointCreated(BaseModel):
    id: int
    secret: str = Field(description="`whsec_...`: verify signatures with it; shown only now")


class EndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None = Field(description="The first failure since the last success")
    created_at: datetime


@router.post(
    "",
    status_code=201,
    response_model=EndpointCreated,
    summary="Add a webhook endpoint; its signing secret is in the answer, shown once",
)
def create_webhook(
    body: EndpointIn,
    project_id: int = Depends(managed_project),
    session: Session = Depends(db_session),
) -> EndpointCreated:
    new = endpoints.create_endpoint(
        session, project_id=project_id, url=body.url, events=list(body.events)
    )
    return EndpointCreated(id=new.id, secret=new.secret)


@router.get("", response_model=list[EndpointOut], summary="The project's webhook endpoints")
def list_webhooks(
    project_id: int = Depends(managed_project), session: Session = Depends(db_session)
) -> list[EndpointOut]:
    return [
        EndpointOut(
            id=e.id,
            url=e.url,
            events=e.events,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            created_at=e.created_at,
        )
        for e in endpoints.list_endpoints(session, project_id=project_id)
    ]


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a webhook endpoint with its delivery log",
)
def delete_webhook(
    endpoint_id: PathId,
    project_id: int = Depends(managed_project),
    session: Session = Depends(db_session),
) -> Response:
    endpoints.delete_endpoint(session, project_id=project_id, endpoint_id=endpoint_id)
    return Response(status_code=204)

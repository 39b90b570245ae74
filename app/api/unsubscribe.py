"""One-click unsubscribe (RFC 8058): what an email's `List-Unsubscribe` header points at.

    POST /api/unsubscribe?token=...   mail clients' one-click (body `List-Unsubscribe=One-Click`);
                                      no sign-in: the signed token names the user and the kind
    GET  /api/unsubscribe?token=...   a person who opens the header's link in a browser: 303 to
                                      the /unsubscribe page, which says what it switched off

The body is not required: the token in the address is what counts, and RFC 8058 senders must
not depend on anything else. A forged or damaged token is a 400 with a clear message.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app import routes
from app.api.deps import db_session
from app.api.errors import COMMON, error_responses
from app.api.params import Text
from app.services.notify.preferences import unsubscribe
from app.services.notify.tokens import MAX_TOKEN_LENGTH
from app.settings import get_settings

router = APIRouter(
    prefix=routes.API_UNSUBSCRIBE, tags=["email"], responses=COMMON | error_responses(400)
)

Token = Annotated[
    Text,
    Query(
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        description="The signed token from the email's List-Unsubscribe header",
    ),
]


class Unsubscribed(BaseModel):
    kind: str = Field(description="The kind of email switched off", examples=["low_credits"])
    label: str = Field(description="What that kind is, as /account names it")
    enabled: bool = Field(description="Always false: this kind is now off")


@router.post("", response_model=Unsubscribed, summary="One-click unsubscribe (RFC 8058)")
def one_click_unsubscribe(token: Token, session: Session = Depends(db_session)) -> Unsubscribed:
    done = unsubscribe(session, token=token)
    return Unsubscribed(kind=done.kind, label=done.label, enabled=done.enabled)


@router.get(
    "",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "On to the unsubscribe page, which does the unsubscribing"}},
    summary="Open the unsubscribe page",
)
def unsubscribe_page(token: Token) -> RedirectResponse:
    page = get_settings().app_url.rstrip("/") + routes.unsubscribe_url(token)
    return RedirectResponse(page, status_code=303)

"""Request dependencies: database session and the signed-in user (session cookie or bearer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlmodel import Session

from app.services.accounts.api_keys import PREFIX as API_KEY_PREFIX
from app.services.accounts.api_keys import user_for_key
from app.services.accounts.auth import require_role, user_for_token
from app.services.accounts.session_cookie import SESSION_COOKIE
from app.services.core.db import session_scope
from app.services.core.errors import AuthenticationError
from app.services.core.models import Role, User

# Declared so the OpenAPI schema (and Swagger UI's Authorize button) knows how to sign in; the
# values are read in `session_token`, which also serves requests that skip these declarations.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A session token, or a project API key (`jc_...`)",
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session_cookie",
    description="The web app's session cookie",
)
# For operations that also answer without signing in (public prompts): `{}` = no credentials.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}


def db_session() -> Iterator[Session]:
    """One session per request, committed when the handler returns (services' own scope)."""
    with session_scope() as session:
        yield session


def session_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def optional_user(
    request: Request,
    session: Session = Depends(db_session),
    _bearer: object = Security(bearer_scheme),
    _cookie: object = Security(cookie_scheme),
) -> User | None:
    """A session token (cookie or bearer) or a project API key (`jc_...`) identifies the user."""
    token = session_token(request)
    if token and token.startswith(API_KEY_PREFIX):
        user = user_for_key(session, token)
    else:
        user = user_for_token(session, token)
    # End the lookup's transaction: its pooled connection goes back now, not when the response
    # is sent. Held across a slow upload or a handler that takes a second connection (the credit
    # ledger's own), 15 such requests used the whole pool and waited 30 s on each other.
    session.commit()
    request.state.user_id = user.id if user else None  # for the ErrorEvent of a 500 (main.py)
    return user


def current_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise AuthenticationError(
            "Sign in, or send a session token as 'Authorization: Bearer ...'."
        )
    return user


def admin_user(user: User = Depends(current_user)) -> User:
    return require_role(user, Role.admin)

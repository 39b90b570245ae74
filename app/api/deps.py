"""Request dependencies: database session and the signed-in user (session cookie or bearer)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from sqlmodel import Session

from app.services.api_keys import PREFIX as API_KEY_PREFIX
from app.services.api_keys import user_for_key
from app.services.auth import require_role, user_for_token
from app.services.db import get_engine
from app.services.errors import AuthenticationError
from app.services.models import Role, User
from app.services.session_cookie import SESSION_COOKIE


def db_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def session_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def optional_user(request: Request, session: Session = Depends(db_session)) -> User | None:
    """A session token (cookie or bearer) or a project API key (`jc_...`) identifies the user."""
    token = session_token(request)
    if token and token.startswith(API_KEY_PREFIX):
        return user_for_key(session, token)
    return user_for_token(session, token)


def current_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise AuthenticationError(
            "Sign in, or send a session token as 'Authorization: Bearer ...'."
        )
    return user


def admin_user(user: User = Depends(current_user)) -> User:
    return require_role(user, Role.admin)

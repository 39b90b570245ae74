"""Helpers shared by every State: run blocking services off the loop, turn errors into messages."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from app.services.core.error_events import record_error
from app.services.core.errors import UserFacingError, new_error_id, public_message
from app.services.core.logs import get_logger

T = TypeVar("T")
log = get_logger("state")


async def run_service(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Services are synchronous (SQL, Pillow, boto3): run them in a thread."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def as_signed_in(token: str, fn: Callable[[Any, Any], T]) -> T:
    """Run `fn(session, user)` for the user behind a session token, in one transaction.

    Services check what that user may do; this only refuses when nobody is signed in.
    """
    from app.services.accounts.auth import user_for_token
    from app.services.core.db import session_scope
    from app.services.core.errors import AuthenticationError

    with session_scope() as session:
        user = user_for_token(session, token)
        if user is None:
            raise AuthenticationError("Your session ended: sign in again.")
        return fn(session, user)


def user_message(exc: BaseException) -> str:
    """The safe text for a toast: the message of a UserFacingError, else a reference id, kept
    as an ErrorEvent so an admin can find it from what the person quotes."""
    if isinstance(exc, UserFacingError):
        return exc.message
    error_id = new_error_id()
    log.error("unexpected error %s", error_id, exc_info=exc)
    # Synchronous on purpose (this is called from sync and async handlers alike); it is one
    # small insert, on a path that is rare by definition.
    record_error(exc, reference=error_id, source="page", location=handler_name(exc))
    return public_message(exc, error_id)


def handler_name(exc: BaseException) -> str:
    """`SomeState.some_handler`: the outermost frame of app/state in `exc`'s traceback, which
    is the event handler Reflex called (Reflex hands exception handlers the exception alone)."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("app.state.") and module != __name__:
            return tb.tb_frame.f_code.co_qualname
        tb = tb.tb_next
    return ""

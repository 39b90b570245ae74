"""Setting and clearing the session and notice cookies: the one place responses do it."""

from __future__ import annotations

from starlette.responses import Response

from app.services.accounts.session_cookie import (
    LEGACY_SESSION_COOKIE,
    NOTICE_COOKIE,
    NOTICE_TTL_SECONDS,
    SESSION_COOKIE,
    Notice,
    seal_notice,
    session_cookie_options,
)
from app.settings import Settings


def _forget_legacy(response: Response, settings: Settings) -> None:
    # The cookie page scripts could read: gone for good, whatever it held.
    options = session_cookie_options(settings)
    response.delete_cookie(LEGACY_SESSION_COOKIE, path=options["path"], samesite="lax")


def set_session(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        **session_cookie_options(settings),
    )
    clear_notice(response, settings)
    _forget_legacy(response, settings)


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, **session_cookie_options(settings))
    _forget_legacy(response, settings)


def set_notice(response: Response, notice: Notice, settings: Settings) -> None:
    response.set_cookie(
        NOTICE_COOKIE,
        seal_notice(notice, settings),
        max_age=NOTICE_TTL_SECONDS,
        **session_cookie_options(settings),
    )


def clear_notice(response: Response, settings: Settings) -> None:
    response.delete_cookie(NOTICE_COOKIE, **session_cookie_options(settings))

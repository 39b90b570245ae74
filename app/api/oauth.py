"""`/api/auth/google/start` and `/callback`: browser redirects for Google sign-in.

Both answer with redirects only: success goes to `{APP_URL}{next}` with the session cookie set,
every failure to `{APP_URL}/login?error=<code>` (codes in google_auth.ERROR_MESSAGES).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from app import routes
from app.api.cookies import set_session
from app.api.errors import COMMON
from app.api.params import Text
from app.services.accounts import google_auth
from app.services.accounts.google_auth import GoogleIdentity, GoogleSignInError
from app.services.accounts.session_cookie import secure_cookies
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.services.core.errors import TooManyAttemptsError, new_error_id
from app.services.core.logs import get_logger
from app.settings import Settings, get_settings

router = APIRouter(prefix="/api/auth/google", tags=["auth"], responses=COMMON)
log = get_logger("api.oauth")

STATE_COOKIE = "jsoncraft_oauth"
STATE_COOKIE_PATH = "/api/auth/google"


def _secure(settings: Settings) -> bool:
    return secure_cookies(settings)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _app_url(settings: Settings, path: str) -> str:
    return f"{settings.app_url.rstrip('/')}{path}"


def _failure(settings: Settings, code: str) -> RedirectResponse:
    query = urlencode({"error": code})
    response = RedirectResponse(_app_url(settings, f"{routes.LOGIN}?{query}"), status_code=302)
    response.delete_cookie(
        STATE_COOKIE, path=STATE_COOKIE_PATH, secure=_secure(settings), httponly=True
    )
    return response


def _open_session(identity: GoogleIdentity, user_agent: str) -> str:
    with session_scope() as session:
        return google_auth.sign_in_with_google(
            session, identity=identity, user_agent=user_agent
        ).token


@router.get(
    "/start",
    summary="Start signing in with Google (a browser redirect)",
    response_class=RedirectResponse,
    status_code=302,
    responses={302: {"description": "To Google; or to the sign-in page with `?error=<code>`"}},
)
async def start(
    request: Request, next_path: Text = Query(routes.HOME, alias="next", max_length=2000)
) -> RedirectResponse:
    settings = get_settings()
    try:
        await rate_limits.acheck("google_sign_in", ip=_client_ip(request))
        url, sealed = await google_auth.start_sign_in(
            settings=settings, next_path=routes.safe_next(next_path)
        )
    except TooManyAttemptsError:
        return _failure(settings, "too_many_attempts")
    except GoogleSignInError as e:
        log.warning("google sign-in not started: %s %s", e.code, e.detail)
        return _failure(settings, e.code)
    except Exception as e:  # a redirect, never a stack trace
        log.error("google sign-in could not start %s", new_error_id(), exc_info=e)
        return _failure(settings, "unexpected")
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        sealed,
        max_age=google_auth.STATE_TTL_SECONDS,
        path=STATE_COOKIE_PATH,
        secure=_secure(settings),
        httponly=True,
        samesite="lax",  # sent on the top-level redirect back from Google, not on subrequests
    )
    return response


@router.get(
    "/callback",
    summary="Google redirects here after the person signs in",
    response_class=RedirectResponse,
    status_code=302,
    responses={302: {"description": "Into the app signed in; or to sign-in with `?error=<code>`"}},
)
async def callback(request: Request) -> RedirectResponse:
    settings = get_settings()
    try:
        await rate_limits.acheck("google_sign_in", ip=_client_ip(request))
        identity = await google_auth.finish_sign_in(
            settings=settings,
            cookie=request.cookies.get(STATE_COOKIE),
            params=dict(request.query_params),
        )
        token = await asyncio.to_thread(
            _open_session, identity, request.headers.get("user-agent", "")
        )
    except TooManyAttemptsError:
        return _failure(settings, "too_many_attempts")
    except GoogleSignInError as e:
        log.warning("google sign-in refused: %s %s", e.code, e.detail)
        return _failure(settings, e.code)
    except Exception as e:  # a redirect, never a stack trace
        log.error("google sign-in failed %s", new_error_id(), exc_info=e)
        return _failure(settings, "unexpected")
    response = RedirectResponse(
        _app_url(settings, routes.safe_next(identity.next_path)), status_code=302
    )
    response.delete_cookie(
        STATE_COOKIE, path=STATE_COOKIE_PATH, secure=_secure(settings), httponly=True
    )
    set_session(response, token, settings)
    return response

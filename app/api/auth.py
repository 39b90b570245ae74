"""`/api/auth/sign-in`, `/sign-up`, `/sign-out`, `/sign-out-everywhere`: the browser's forms.

The sign-in and sign-up pages post plain HTML forms here (no script), and every answer is a
303 redirect back to the app: on success to `{APP_URL}{next}` with the HttpOnly session cookie
set, on failure to the form's page with a notice cookie holding the message and what was typed
(see app/services/accounts/session_cookie.py). A full page load follows either way, so the Reflex
websocket reconnects carrying the new cookie. A POST whose Origin (or Referer) is not the
app's is refused with 403: SameSite=Lax alone does not stop another site from signing a
visitor in to an account of its choosing (login CSRF).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from app import routes
from app.api.cookies import clear_session, set_notice, set_session
from app.api.errors import COMMON, error_responses
from app.services.accounts import auth, signup
from app.services.accounts.session_cookie import SESSION_COOKIE, Notice, same_origin_request
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.services.core.error_events import record_error
from app.services.core.errors import UserFacingError, new_error_id, public_message
from app.services.core.logs import get_logger
from app.settings import Settings, get_settings

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=COMMON)
log = get_logger("api.auth")

MAX_FORM_BYTES = 16 * 1024
MAX_FIELDS = 10
MAX_EMAIL = 320
CROSS_SITE = "This form was sent from another site, so it was refused. Open the app and try again."
UNREADABLE = "That form could not be read. Reload the page and try again."

_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
    }
}
_REDIRECTS: dict[int | str, dict[str, Any]] = {
    303: {"description": "Back to the app: the next page, or the form with a notice"},
    403: {
        **error_responses(403)[403],
        "description": "Sent from another site (Origin or Referer not the app's)",
    },
}


class _UnreadableFormError(Exception):
    pass


async def _form(request: Request) -> dict[str, str]:
    """The posted fields (first value of each), read with a size cap."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded"):  # "": an empty form, no body
        raise _UnreadableFormError
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise _UnreadableFormError
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as e:
        raise _UnreadableFormError from e
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _from_our_site(request: Request, settings: Settings) -> bool:
    return same_origin_request(
        origin=request.headers.get("origin"),
        referer=request.headers.get("referer"),
        settings=settings,
    )


def _refused() -> JSONResponse:
    return JSONResponse({"detail": CROSS_SITE}, status_code=403)


def _app_url(settings: Settings, path: str) -> str:
    return f"{settings.app_url.rstrip('/')}{path}"


def _form_page(page: str, next_path: str) -> str:
    return page if next_path == routes.HOME else f"{page}?next={quote(next_path, safe='/')}"


async def _message(exc: BaseException, request: Request) -> str:
    if isinstance(exc, UserFacingError):
        return exc.message
    error_id = new_error_id()
    log.error("sign-in form failed %s", error_id, exc_info=exc)
    route = getattr(request.scope.get("route"), "path", request.url.path)
    await asyncio.to_thread(
        record_error, exc, reference=error_id, location=f"{request.method} {route}"
    )
    return public_message(exc, error_id)


def _back_to_form(
    settings: Settings, page: str, next_path: str, text: str, *, email: str = "", name: str = ""
) -> RedirectResponse:
    response = RedirectResponse(_app_url(settings, _form_page(page, next_path)), status_code=303)
    set_notice(response, Notice(page=page, text=text, email=email, name=name), settings)
    return response


async def _posted_form(
    request: Request, settings: Settings, page: str
) -> dict[str, str] | Response:
    """The form's fields, or the answer when it came from another site or can't be read."""
    if not _from_our_site(request, settings):
        return _refused()
    try:
        return await _form(request)
    except _UnreadableFormError:
        return _back_to_form(settings, page, routes.HOME, UNREADABLE)


def _signed_in(settings: Settings, next_path: str, token: str) -> RedirectResponse:
    response = RedirectResponse(_app_url(settings, next_path), status_code=303)
    set_session(response, token, settings)
    return response


def _sign_in(email: str, password: str, client: str, agent: str) -> str:
    with session_scope() as session:
        return auth.authenticate(
            session, email=email, password=password, client=client, user_agent=agent
        ).token


def _sign_up(email: str, password: str, name: str, agent: str) -> str:
    with session_scope() as session:
        return signup.sign_up(
            session, email=email, password=password, display_name=name, user_agent=agent
        ).token


@router.post(
    "/sign-in",
    summary="Sign in with email and password (an HTML form post)",
    status_code=303,
    responses=_REDIRECTS,
    openapi_extra=_FORM_BODY,
)
async def sign_in(request: Request) -> Response:
    settings = get_settings()
    fields = await _posted_form(request, settings, routes.LOGIN)
    if isinstance(fields, Response):
        return fields
    next_path = routes.safe_next(fields.get("next"))
    email = fields.get("email", "").strip()[:MAX_EMAIL]
    password = fields.get("password", "")
    if not email or not password:
        return _back_to_form(
            settings, routes.LOGIN, next_path, "Enter your email and password.", email=email
        )
    agent = request.headers.get("user-agent", "")
    try:
        await rate_limits.acheck("sign_in", ip=_client_ip(request), email=email)
        token = await asyncio.to_thread(_sign_in, email, password, _client_ip(request), agent)
    except Exception as e:  # every failure goes back to the form, email kept
        message = await _message(e, request)
        return _back_to_form(settings, routes.LOGIN, next_path, message, email=email)
    return _signed_in(settings, next_path, token)


@router.post(
    "/sign-up",
    summary="Create an account with email and password (an HTML form post)",
    status_code=303,
    responses=_REDIRECTS,
    openapi_extra=_FORM_BODY,
)
async def sign_up(request: Request) -> Response:
    settings = get_settings()
    fields = await _posted_form(request, settings, routes.SIGNUP)
    if isinstance(fields, Response):
        return fields
    next_path = routes.safe_next(fields.get("next"))
    email = fields.get("email", "").strip()[:MAX_EMAIL]
    name = fields.get("name", "").strip()[:120]
    password = fields.get("password", "")
    if password != fields.get("confirm", ""):
        return _back_to_form(
            settings,
            routes.SIGNUP,
            next_path,
            "The two passwords don't match.",
            email=email,
            name=name,
        )
    agent = request.headers.get("user-agent", "")
    try:
        await rate_limits.acheck("sign_up", ip=_client_ip(request))
        token = await asyncio.to_thread(_sign_up, email, password, name, agent)
    except Exception as e:  # every failure goes back to the form, email and name kept
        message = await _message(e, request)
        return _back_to_form(settings, routes.SIGNUP, next_path, message, email=email, name=name)
    return _signed_in(settings, next_path, token)


def _signed_out(settings: Settings, text: str) -> RedirectResponse:
    response = RedirectResponse(_app_url(settings, routes.LOGIN), status_code=303)
    clear_session(response, settings)
    set_notice(response, Notice(page=routes.LOGIN, text=text, kind="info"), settings)
    return response


def _close_one(token: str | None) -> None:
    with session_scope() as session:
        auth.close_session(session, token=token)


def _close_all(token: str | None) -> int:
    with session_scope() as session:
        user = auth.user_for_token(session, token)
        if user is None or user.id is None:
            return 0
        return auth.close_all_sessions(session, user_id=user.id)


def _session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


@router.post(
    "/sign-out",
    summary="Sign out this browser (an HTML form post)",
    status_code=303,
    responses=_REDIRECTS,
)
async def sign_out(request: Request) -> Response:
    settings = get_settings()
    if not _from_our_site(request, settings):
        return _refused()
    await asyncio.to_thread(_close_one, _session_token(request))
    return _signed_out(settings, "You are signed out.")


@router.post(
    "/sign-out-everywhere",
    summary="Sign out every browser and device of this account (an HTML form post)",
    status_code=303,
    responses=_REDIRECTS,
)
async def sign_out_everywhere(request: Request) -> Response:
    settings = get_settings()
    if not _from_our_site(request, settings):
        return _refused()
    count = await asyncio.to_thread(_close_all, _session_token(request))
    return _signed_out(settings, f"Signed out of {count} session{'s' if count != 1 else ''}.")

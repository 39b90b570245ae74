"""The browser's session cookie, the one-shot notice cookie, and the same-origin check.

The session cookie holds a random token (only its hash is stored, see auth.py). Only HTTP
responses set it (app/api/auth.py, app/api/oauth.py): HttpOnly, SameSite=Lax, and Secure when
the app is served over https, so no script in a page can read it. The Reflex state reads it on
the server, from the Cookie header of the websocket handshake (`token_from_cookie_header`).

A form posted to those endpoints comes back with a 303 redirect. When it failed, the redirect
carries a notice cookie (signed, a minute long) with the message and what was typed, for the
form page to show; nothing is put in the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from app.settings import Settings

SESSION_COOKIE = "jsoncraft_sid"
# The name page scripts used when Reflex set the cookie from the browser: never read any more,
# and deleted by every sign-in, sign-up and sign-out response.
LEGACY_SESSION_COOKIE = "jsoncraft_session"
NOTICE_COOKIE = "jsoncraft_notice"
NOTICE_TTL_SECONDS = 60
_MAX_NOTICE_FIELD = 400


def secure_cookies(settings: Settings) -> bool:
    return settings.app_url.lower().startswith("https://")


def session_cookie_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for Starlette's `Response.set_cookie` / `delete_cookie`."""
    return {
        "path": "/",
        "secure": secure_cookies(settings),
        "httponly": True,
        # Lax: sent when a person follows a link here from another site, never on another
        # site's subrequests or cross-site POSTs (the endpoints also check the Origin).
        "samesite": "lax",
    }


def read_cookie(header: str | None, name: str) -> str | None:
    """One cookie's value from a Cookie header; tolerant of malformed neighbours."""
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None


def token_from_cookie_header(header: str | None) -> str | None:
    return read_cookie(header, SESSION_COOKIE)


@dataclass(frozen=True)
class Notice:
    """What a form page shows after its POST came back: a message and the typed values."""

    page: str  # the route it is for (/login, /signup)
    text: str
    kind: str = "error"  # "error" (on the form) or "info" (a toast)
    email: str = ""
    name: str = ""
    id: str = ""  # random: a page shows each notice once
    at: int = 0  # when it was written (Unix seconds)


def _signature(payload: bytes, settings: Settings) -> str:
    key = hashlib.sha256(b"notice:" + settings.secret_key.get_secret_value().encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def seal_notice(notice: Notice, settings: Settings) -> str:
    fields = {
        k: (v[:_MAX_NOTICE_FIELD] if isinstance(v, str) else v) for k, v in asdict(notice).items()
    }
    fields["id"] = fields["id"] or secrets.token_urlsafe(9)
    fields["at"] = fields["at"] or int(time.time())
    payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=")
    return f"{payload.decode()}.{_signature(payload, settings)}"


def open_notice(
    value: str | None, settings: Settings, *, now: float | None = None
) -> Notice | None:
    """The notice in a cookie value, or None when missing, forged, malformed or expired."""
    if not value or len(value) > 4096 or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _signature(payload.encode(), settings)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        notice = Notice(**{k: data[k] for k in Notice.__dataclass_fields__ if k in data})
    except (ValueError, TypeError):
        return None
    age = (time.time() if now is None else now) - notice.at
    return notice if 0 <= age <= NOTICE_TTL_SECONDS else None


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def same_origin_request(*, origin: str | None, referer: str | None, settings: Settings) -> bool:
    """Whether a POST comes from one of our own pages (the app, or the API in dev mode).

    SameSite=Lax keeps our cookie off another site's POSTs, but a sign-in form posted from
    another site would still sign the visitor in to the attacker's account (login CSRF), so
    every auth endpoint requires the browser's Origin (or, when it sends "null" or nothing,
    the Referer) to be ours. Browsers send Origin on every POST; a request with neither is
    refused.
    """
    allowed = {_origin(settings.app_url), _origin(settings.api_url)} - {None}
    if origin and origin.strip().lower() != "null":
        return _origin(origin) in allowed
    if referer:
        return _origin(referer) in allowed
    return False

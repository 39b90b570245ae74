"""CORS for the few operations browsers on other origins call: presign and complete an upload
(with a client token), and PUT bytes to the local store's signed URLs.

Scoped by method and path so the rest of the API keeps its same-origin answers. No cookies are
involved (`Access-Control-Allow-Origin: *` never carries credentials): these operations
authenticate by the Authorization header or the URL's signature. `ETag` is exposed because a
multipart upload's complete lists each part's ETag.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALLOWED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"/api/uploads/?")),
    ("POST", re.compile(r"/api/uploads/[^/]+/complete/?")),
    ("PUT", re.compile(r"/api/files/.+")),
)
_ALLOW_HEADERS = "Authorization, Content-Type"
_MAX_AGE = "600"


def cors_method(path: str) -> str | None:
    """The method browsers may call `path` with from another origin, or None."""
    for method, pattern in _ALLOWED:
        if pattern.fullmatch(path):
            return method
    return None


class UploadCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowed = cors_method(scope["path"])
        if allowed is None or "origin" not in headers:
            await self.app(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if preflight and headers["access-control-request-method"].upper() == allowed:
            response = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": allowed,
                    "Access-Control-Allow-Headers": _ALLOW_HEADERS,
                    "Access-Control-Max-Age": _MAX_AGE,
                    "Vary": "Origin",
                },
            )
            await response(scope, receive, send)
            return
        if scope["method"] != allowed:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = "*"
                out["Access-Control-Expose-Headers"] = "ETag"
            await send(message)

        await self.app(scope, receive, send_with_cors)

"""ReDoc at `/api/redoc`, working offline like Swagger UI at `/api/docs`.

fastapi-offline serves both UIs' assets from its wheel. ReDoc's bundle still shows one image from
its CDN (the Redocly logo beside "API docs by Redocly"), which offline is a failed request and a
console error on every visit: this serves the bundle with that image inlined as an empty SVG.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

REDOC_URL = "/api/redoc"
_REDOC_JS_URL = "/api/redoc/redoc.standalone.js"
_REDOC_JS = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
_REMOTE_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@cache
def _redoc_js() -> bytes:
    return _REDOC_JS.read_bytes().replace(_REMOTE_LOGO, _EMPTY_SVG)


def add_redoc(api: FastAPI, *, favicon_url: str) -> None:
    @api.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} - ReDoc",
            redoc_js_url=f"{root}{_REDOC_JS_URL}",
            redoc_favicon_url=f"{root}{favicon_url}",
            with_google_fonts=False,
        )

    @api.get(_REDOC_JS_URL, include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(
            _redoc_js(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

"""GET /metrics for Prometheus, and the middleware that counts every HTTP request.

The FastAPI app is the outermost app: Reflex mounts its own (events, uploads, ping, the
compiled frontend) inside it at "" through api_transformer, so this middleware sees every HTTP
request. Requests are labelled by route template ("/api/uploads/{upload_id}"), found by
walking the routes and the mounts within them the way Starlette's router does; a path no route
matches is counted under one label, so a scan of random URLs can't make new time series.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence

from fastapi import APIRouter, Request
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.core import metrics
from app.settings import get_settings

UNMATCHED = "<unmatched>"
MAX_MOUNT_DEPTH = 4

router = APIRouter(include_in_schema=False)  # for scrapers, not API clients (nor schemathesis)


@router.get("/metrics")
def get_metrics(request: Request) -> Response:
    token = get_settings().metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return Response(
                "Metrics need Authorization: Bearer <METRICS_TOKEN>.\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body, content_type = metrics.render(request.headers.get("accept", ""))
    return Response(body, media_type=content_type)


def route_template(routes: Sequence[BaseRoute], scope: Scope, depth: int = 0) -> str:
    """The template of the route that answers `scope`, with the mounts' prefixes; a full match
    wins over a path that matches with another method, as in Starlette's router."""
    partial: tuple[BaseRoute, Scope] | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return _template(route, {**scope, **child}, depth)
        if match == Match.PARTIAL and partial is None:
            partial = (route, {**scope, **child})
    if partial is not None:
        return _template(*partial, depth)
    return UNMATCHED


def _template(route: BaseRoute, scope: Scope, depth: int) -> str:
    if not isinstance(route, Mount):
        return str(getattr(route, "path", UNMATCHED))
    inner = getattr(route.app, "routes", None)
    if inner is None or depth >= MAX_MOUNT_DEPTH:
        # A mounted app without routes (static files, Socket.IO): one label for all of it.
        return f"{route.path}/{{path}}"
    found = route_template(inner, scope, depth + 1)
    return UNMATCHED if found == UNMATCHED else route.path + found


class HttpMetricsMiddleware:
    """Counts each HTTP request and its latency (to the end of the response body) by route
    template, method and status. A request that raises counts as a 500."""

    def __init__(self, app: ASGIApp, *, routes_of: Starlette) -> None:
        self.app = app
        self.routes_of = routes_of  # read per request: Reflex mounts its app after this is made

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # websockets (Reflex's events) are not requests
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Matched before the app runs: its router rewrites the scope's root path on the way in.
        route = route_template(self.routes_of.routes, dict(scope))
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            metrics.HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            metrics.HTTP_DURATION.labels(route=route, method=method).observe(
                time.perf_counter() - started
            )


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

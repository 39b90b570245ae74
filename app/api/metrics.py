"""GET /metrics for Prometheus, and the middleware that counts every HTTP request.

The FastAPI app is the outermost app: Reflex mounts its own (events, uploads, ping, the
compiled frontend) inside it at "" through api_transformer, so this middleware sees every HTTP
request. Requests are labelled by the template of the route that answered them
("/api/uploads/{upload_id}"); a path no route matches is counted under one label, so a scan
of random URLs can't make new time series. GET /metrics runs in the thread pool: it reads
the queue's depth, which may touch SQLite or Redis.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence

from fastapi import APIRouter, Request
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.core import metrics
from app.settings import get_settings

UNMATCHED = "<unmatched>"

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


def route_template(scope: Scope, root_path: str, top_routes: Sequence[BaseRoute]) -> str:
    """The template of the route that answered `scope`, after the prefixes of the mounts it
    went through (they extend the root path from `root_path`, what it was on the way in).

    Routers note their choice in scope["route"]: Starlette's always, FastAPI's for its API
    routes. FastAPI's own plain routes and mounts (the docs, their static files) are not
    noted, so those are matched here; they are few and fixed."""
    route = scope.get("route")
    if route is None:
        for candidate in top_routes:
            if isinstance(candidate, Route | Mount):
                match, _ = candidate.matches({**scope, "root_path": root_path})
                if match == Match.FULL:
                    route = candidate
                    break
        else:
            return UNMATCHED
    if isinstance(route, Mount):
        if getattr(route.app, "routes", None) is not None:
            return UNMATCHED  # a mounted router whose own routes matched nothing
        # A mounted app without routes (static files, Socket.IO): one label for all of it.
        return root_path + route.path + "/{path}"
    prefix = str(scope.get("root_path", ""))[len(root_path) :]
    return prefix + str(getattr(route, "path_format", None) or getattr(route, "path", UNMATCHED))


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
        root_path = str(scope.get("root_path", ""))
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
            # The routers below wrote their choice into this same scope on the way in.
            route = route_template(scope, root_path, self.routes_of.routes)
            metrics.HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            metrics.HTTP_DURATION.labels(route=route, method=method).observe(
                time.perf_counter() - started
            )


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

"""The FastAPI app: middleware (request ids, JSON errors) and routers."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from app.api import admin, analyze, assets, files, metrics, oauth, prompts, system, uploads
from app.api import auth as auth_api
from app.api import billing as billing_api
from app.api import bundles as bundles_api
from app.api import generations as generations_api
from app.api import jobs as jobs_api
from app.api import loras as loras_api
from app.api import projects as projects_api
from app.api import unsubscribe as unsubscribe_api
from app.api import webhooks_api as hooks_api
from app.api.cors import UploadCorsMiddleware
from app.api.docs import add_redoc
from app.api.openapi import add_prompt_schema
from app.services.core.error_events import record_error
from app.services.core.errors import (
    PlanLimitError,
    TooManyAttemptsError,
    UserFacingError,
    new_error_id,
    public_message,
)
from app.services.core.logs import get_logger, request_id_var
from app.services.core.tracing import instrument_api
from app.settings import APP_VERSION

log = get_logger("api")


class RequestIdMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        response.headers["X-Request-ID"] = rid
        if request.url.path.startswith("/api/"):
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        return response


async def _user_facing(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UserFacingError)
    headers = {}
    if isinstance(exc, TooManyAttemptsError | PlanLimitError) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    error_id = new_error_id()
    log.error("unhandled error %s on %s", error_id, request.url.path, exc_info=exc)
    route = request.scope.get("route")
    await asyncio.to_thread(  # the thread keeps this context: the ErrorEvent gets the trace id
        record_error,
        exc,
        reference=error_id,
        source="api",
        location=f"{request.method} {getattr(route, 'path', request.url.path)}",
        user_id=getattr(request.state, "user_id", None),
    )
    return JSONResponse(
        {"detail": public_message(exc, error_id), "error_id": error_id}, status_code=500
    )


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
            "message": e.get("msg", ""),
        }
        for e in exc.errors()
    ]
    return JSONResponse({"detail": "The request is not valid.", "errors": errors}, status_code=422)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(api: FastAPI, scope: Scope) -> list[str]:
    """Every method some route answers on this path; Starlette's 405 names the first route's."""
    return [
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in api.routes)
    ]


def _http_error(api: FastAPI) -> Any:
    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(api, request.scope))
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=headers)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    return handle


def _openapi(api: FastAPI) -> Any:
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = add_prompt_schema(generate())
        return api.openapi_schema

    return openapi


def create_api() -> FastAPI:
    # Swagger UI and ReDoc with their JS/CSS served from the fastapi-offline wheel, not a CDN:
    # the docs work on a machine with no internet.
    api = FastAPIOffline(
        title="JSONCraft API",
        version=APP_VERSION,
        docs_url="/api/docs",
        redoc_url=None,  # added by add_redoc, without ReDoc's one remote image
        static_url="/api/docs/assets",
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
        # No badge from the public validator service: it would send the schema off the machine.
        swagger_ui_parameters={"validatorUrl": None},
    )
    add_redoc(api, favicon_url="/api/docs/assets/favicon.png")
    api.add_middleware(RequestIdMiddleware)
    api.add_middleware(UploadCorsMiddleware)
    api.add_middleware(metrics.HttpMetricsMiddleware, routes_of=api)
    api.add_exception_handler(UserFacingError, _user_facing)
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_exception_handler(StarletteHTTPException, _http_error(api))
    api.add_exception_handler(Exception, _unexpected)
    api.include_router(system.router)
    api.include_router(metrics.router)
    api.include_router(assets.router)
    api.include_router(files.router)
    api.include_router(admin.router)
    api.include_router(analyze.router)
    api.include_router(prompts.router)
    api.include_router(bundles_api.router)
    api.include_router(jobs_api.router)
    api.include_router(generations_api.router)
    api.include_router(loras_api.router)
    api.include_router(loras_api.webhooks)
    api.include_router(projects_api.router)
    api.include_router(billing_api.router)
    api.include_router(hooks_api.router)
    api.include_router(oauth.router)
    api.include_router(auth_api.router)
    api.include_router(uploads.router)
    api.include_router(unsubscribe_api.router)
    api.openapi = _openapi(api)  # type: ignore[method-assign]
    instrument_api(api)  # a span per REST request, when tracing is set up (core/tracing.py)
    return api

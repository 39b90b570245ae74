"""OpenTelemetry tracing: set up once per process, then spans for API requests, outgoing httpx
calls, SQL statements and queue tasks.

`setup_tracing()` runs in the web process (app/app.py) and the queue worker (app/cli.py). It
always records spans, so a log line and the "Reference: ..." a person sees carry the trace id
of what failed; spans leave the process only when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP
over HTTP). Processes that never call it (the CLI) pay nothing: this module imports the SDK
only inside `setup_tracing`, and the helpers below are cheap no-ops until then.

SQLAlchemy: opentelemetry-instrumentation-sqlalchemy 0.66b2 declares "sqlalchemy < 2.1" and so
its instrumentor instruments nothing on our pinned 2.1.9, silently (and, forced, it takes one
engine per process: it is a singleton). Its per-engine tracer, `EngineTracer` (the engine
events before/after_cursor_execute), works unchanged on 2.1, so every engine `engine_for`
makes gets one; tests/unit/test_tracing.py proves real queries on two engines make spans.

A queue task's span starts a trace of its own that *links* to the span that enqueued it: the
W3C trace context rides in the task's kwargs (`TRACE_KWARG`), put there by a huey
"enqueued" signal and taken out again by the wrapper around the task function.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Container, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from app.settings import Settings

TRACER_NAME = "jsoncraft"
TRACE_KWARG = "_trace_context"  # the task kwarg holding the enqueuer's W3C trace context
# The FastAPI app wraps the whole Reflex backend (api_transformer): trace only the REST API.
# Reflex's websocket would otherwise be one span for a whole visit, shared by every event.
_NOT_API = r"://[^/]+/(?!api/)"

_lock = threading.Lock()
_provider: TracerProvider | None = None
# SQLAlchemy engines, typed Any: not even a type-checking import of SQLAlchemy here, since the
# image engine (studio/imageops, kept free of SQLAlchemy) imports this module via core/errors.
_engines: weakref.WeakSet[Any] = weakref.WeakSet()


def setup_tracing(settings: Settings) -> None:
    """Start recording spans in this process (once; later calls do nothing)."""
    global _provider
    with _lock:
        if _provider is not None:
            return
        from opentelemetry import trace
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider

        from app.settings import APP_VERSION

        provider = TracerProvider(
            resource=Resource.create(
                {"service.name": settings.otel_service_name, "service.version": APP_VERSION}
            )
        )
        if settings.otel_exporter_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        # Every httpx client, the shared one (core/http.py) and those made elsewhere: the
        # instrumentor wraps the transports' request methods, whenever the client was made.
        HTTPXClientInstrumentor().instrument(tracer_provider=provider)
        _provider = provider
        engines = list(_engines)

    for engine in engines:
        _instrument(engine)


def tracing_enabled() -> bool:
    return _provider is not None


def add_span_exporter(exporter: SpanExporter) -> None:
    """Send every span that ends from now on to `exporter` as well, one by one (tests read
    them from an InMemorySpanExporter)."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    if _provider is None:
        raise RuntimeError("setup_tracing() first")
    _provider.add_span_processor(SimpleSpanProcessor(exporter))


def force_flush() -> None:
    if _provider is not None:
        _provider.force_flush()


def instrument_engine(engine: Any) -> None:
    """Trace `engine`'s statements: now if tracing is on, else when it is set up."""
    with _lock:
        _engines.add(engine)
        enabled = _provider is not None
    if enabled:
        _instrument(engine)


def _instrument(engine: Any) -> None:
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    with _lock:  # setup_tracing and a new engine may meet here: attach one tracer only
        if _provider is None or engine.__dict__.get("_jsoncraft_traced"):
            return
        engine.__dict__["_jsoncraft_traced"] = True
    # The package's engine tracer, attached directly (see the module docstring): its
    # instrumentor refuses SQLAlchemy 2.1, and instruments one engine per process anyway.
    # Its connection-usage metric goes nowhere: metrics are Prometheus' (not OpenTelemetry's).
    EngineTracer(
        _provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
        engine,
        NoOpMeter(TRACER_NAME).create_up_down_counter("db.client.connections.usage"),
    )


def instrument_api(api: FastAPI) -> None:
    """Server spans for REST requests, named by method and route template."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        api,
        tracer_provider=_provider,
        excluded_urls=_NOT_API,
        # Not a span per ASGI message: a streamed answer would make hundreds.
        exclude_spans=["receive", "send"],
    )


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the span recording now, or None."""
    if _provider is None:
        return None
    from opentelemetry import trace

    span = trace.get_current_span()
    context = span.get_span_context()
    if not span.is_recording() or not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def current_source() -> str:
    """Where the code running now was started from, for an ErrorEvent: "api" inside a REST
    request's span, "worker" inside a queue task's, "page" elsewhere in a traced process (a
    Reflex event handler) and "cli" where nothing is traced."""
    if _provider is None:
        return "cli"
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    kind = getattr(trace.get_current_span(), "kind", None)  # SDK spans have it, others don't
    if kind == SpanKind.SERVER:
        return "api"
    return "worker" if kind == SpanKind.CONSUMER else "page"


def current_trace_id() -> str | None:
    ids = current_ids()
    return ids[0] if ids else None


def trace_context() -> dict[str, str]:
    """The current span's W3C trace context (`traceparent`), empty when none is recording."""
    if current_ids() is None:
        return {}
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


def traced_task(fn: Callable[..., Any], *, name: str) -> Callable[..., Any]:
    """`fn` run inside a span named `task <name>` that links to the enqueuer's span."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        carrier = kwargs.pop(TRACE_KWARG, None)
        if _provider is None:
            return fn(*args, **kwargs)
        from opentelemetry import trace
        from opentelemetry.propagate import extract
        from opentelemetry.trace import Link, SpanKind

        links: Sequence[Link] = []
        if carrier:
            parent = trace.get_current_span(extract(carrier)).get_span_context()
            if parent.is_valid:
                links = [Link(parent)]
        tracer = _provider.get_tracer(TRACER_NAME)
        # A new trace (context=empty): a task may run long after, and many times for, one request.
        with tracer.start_as_current_span(
            f"task {name}",
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={"jsoncraft.task": name},
        ):
            return fn(*args, **kwargs)

    return run


def carry_trace_context(traced_names: Container[str]) -> Callable[..., None]:
    """A huey "enqueued" signal handler: puts the current trace context into the kwargs of
    tasks named in `traced_names` (their wrapper takes it out), before huey serializes them."""

    def on_enqueued(_signal: str, task: Any, *_args: Any) -> None:
        if task.name not in traced_names or TRACE_KWARG in task.kwargs:
            return  # a retry keeps the context of its first enqueue
        carrier = trace_context()
        if carrier:
            task.kwargs[TRACE_KWARG] = carrier

    return on_enqueued

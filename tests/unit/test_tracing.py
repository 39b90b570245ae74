"""Tracing: spans for REST requests, SQL statements, outgoing httpx calls and queue tasks (linked
to the span that queued them), read from the SDK's in-memory exporter; the trace id in log lines
and in the reference a person sees, kept as an ErrorEvent."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from huey import SqliteHuey
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlmodel import Session, select

from app.api import create_api
from app.api.deps import current_user
from app.services.accounts import api_keys
from app.services.core import tracing
from app.services.core.db import engine_for
from app.services.core.errors import new_error_id
from app.services.core.http import shared_client
from app.services.core.logs import RedactSecretsFilter, RequestIdFilter, json_formatter
from app.services.core.models import ErrorEvent, User
from app.services.core.queue import task_once
from app.settings import Settings
from tests.utils.fakes.webhook_receiver import WebhookReceiver
from tests.utils.job_helpers import RESIZE_WEBP, make_user, photo, run_queue

_exporter = InMemorySpanExporter()


@pytest.fixture
def spans(isolated_settings: Settings) -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process (it stays on: the SDK's provider is set once per process),
    every span that ends also landing in the in-memory exporter."""
    if not tracing.tracing_enabled():
        tracing.setup_tracing(isolated_settings)
        tracing.add_span_exporter(_exporter)
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def _named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def _trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def test_real_queries_make_spans_with_their_statements(
    spans: InMemorySpanExporter, db_url: str, tmp_path: Path
) -> None:
    # opentelemetry-instrumentation-sqlalchemy's instrumentor refuses SQLAlchemy 2.1 by its
    # declared range, and takes one engine per process: every engine must be traced anyway.
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    for url in (db_url, other_url):
        with Session(engine_for(url)) as session:
            session.execute(text("SELECT :n AS answer"), {"n": 42})
    with Session(engine_for(db_url)) as session:
        session.execute(text("SELECT count(*) FROM error_events WHERE source = :s"), {"s": "api"})
    statements = [s for s in spans.get_finished_spans() if "db.statement" in (s.attributes or {})]
    traced = [(s.attributes["db.name"], s.attributes["db.statement"]) for s in statements]
    assert traced.count((db_url.removeprefix("sqlite:///"), "SELECT ? AS answer")) == 1
    assert traced.count((other_url.removeprefix("sqlite:///"), "SELECT ? AS answer")) == 1
    assert (
        db_url.removeprefix("sqlite:///"),
        "SELECT count(*) FROM error_events WHERE source = ?",
    ) in traced
    assert all(s.attributes and s.attributes["db.system"] == "sqlite" for s in statements)


def test_an_api_request_is_a_server_span_named_by_its_route_template(
    spans: InMemorySpanExporter, db_url: str
) -> None:
    client = TestClient(create_api(), raise_server_exceptions=False)
    response = client.get("/api/prompts/987654")
    assert response.status_code in (401, 404)
    (server,) = _named(spans, "GET /api/prompts/{prompt_id}")
    assert server.kind == SpanKind.SERVER
    assert server.attributes and server.attributes["http.route"] == "/api/prompts/{prompt_id}"
    assert [s.name for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER] == [
        server.name
    ]  # one span for the request, none per ASGI message


def test_only_the_rest_api_is_traced_not_the_reflex_app_it_wraps(
    spans: InMemorySpanExporter, db_url: str
) -> None:
    client = TestClient(create_api(), raise_server_exceptions=False)
    client.get("/_event/")  # Reflex's websocket path: one span would cover a whole visit
    client.get("/gallery")
    client.get("/api/health")
    names = [s.name for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert names == ["GET /api/health"]


def test_an_outgoing_httpx_call_is_a_client_span(spans: InMemorySpanExporter) -> None:
    async def call(url: str) -> int:
        client = await shared_client()
        return (await client.post(url, json={"ping": 1})).status_code

    with WebhookReceiver() as receiver:
        status = asyncio.run(call(f"{receiver.url}/hooks/in"))
        (received,) = receiver.requests
    assert status == 200
    (span,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert span.name == "POST"
    assert span.attributes and span.attributes["http.url"] == f"{receiver.url}/hooks/in"
    # The trace context travels with the call, so the other side can join the trace.
    assert received.headers["traceparent"].split("-")[1] == _trace_id(span)


def test_a_queued_task_runs_in_a_span_linked_to_the_request_that_queued_it(
    spans: InMemorySpanExporter, tmp_path: object
) -> None:
    huey = SqliteHuey("tracing-test", filename=str(tmp_path) + "/queue.db", results=False)
    ran: list[tuple[int, str]] = []

    def resize(image_id: int, *, size: str) -> None:
        ran.append((image_id, size))

    task = task_once(huey, resize, name="resize_image")
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /api/jobs") as request_span:
        task(7, size="large")
    # A real queue: the task is serialized, stored, read back and run as a worker does.
    queued = huey.dequeue()
    assert queued is not None
    huey.execute(queued)

    assert ran == [(7, "large")]  # the function never sees the trace context argument
    (task_span,) = _named(spans, "task resize_image")
    assert task_span.kind == SpanKind.CONSUMER
    (link,) = task_span.links
    assert link.context.span_id == request_span.get_span_context().span_id
    assert link.context.trace_id == request_span.get_span_context().trace_id
    assert _trace_id(task_span) != format(request_span.get_span_context().trace_id, "032x")


def test_a_task_queued_outside_any_span_runs_in_a_span_without_links(
    spans: InMemorySpanExporter, tmp_path: object
) -> None:
    huey = SqliteHuey("tracing-test", filename=str(tmp_path) + "/queue.db", results=False)
    task = task_once(huey, lambda n: n, name="plain_task")
    task(1)
    queued = huey.dequeue()
    assert queued is not None and tracing.TRACE_KWARG not in queued.kwargs
    huey.execute(queued)
    (task_span,) = _named(spans, "task plain_task")
    assert task_span.links == ()


def test_log_lines_carry_the_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("jsoncraft.test-tracing")
    logger.handlers = [handler]
    logger.propagate = False
    with trace.get_tracer("test").start_as_current_span("work") as span:
        logger.warning("inside")
    logger.warning("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert outside["trace_id"] == "-" and outside["span_id"] == "-"


def test_the_reference_is_the_trace_id_when_traced_else_random(
    spans: InMemorySpanExporter,
) -> None:
    with trace.get_tracer("test").start_as_current_span("work") as span:
        assert new_error_id() == format(span.get_span_context().trace_id, "032x")
    first, second = new_error_id(), new_error_id()
    assert first != second and re.fullmatch(r"[0-9a-f]{12}", first)


def test_an_unexpected_api_error_shows_the_reference_kept_as_an_error_event(
    spans: InMemorySpanExporter, session: Session, db_url: str
) -> None:
    user = make_user(session, "grace@example.com")
    key = api_keys.create_key(session, owner=user, name="tools")
    session.commit()
    api = create_api()

    @api.get("/api/test-boom/{item_id}")
    def boom(item_id: int, _user: User = Depends(current_user)) -> None:
        raise RuntimeError(f"item {item_id} broke, token=sk-live-secret")

    response = TestClient(api, raise_server_exceptions=False).get(
        "/api/test-boom/5", headers={"Authorization": f"Bearer {key.key}"}
    )

    assert response.status_code == 500
    reference = response.json()["error_id"]
    assert response.json()["detail"] == f"Something went wrong on our side. Reference: {reference}"
    assert "sk-live" not in response.text
    (server,) = _named(spans, "GET /api/test-boom/{item_id}")
    assert reference == _trace_id(server)
    (event,) = session.exec(select(ErrorEvent)).all()
    assert event.reference == reference and event.trace_id == reference
    assert event.source == "api"
    assert event.location == "GET /api/test-boom/{item_id}"
    assert event.error_type == "RuntimeError"
    assert event.message == "item 5 broke, token=[redacted]"
    assert event.user_id == user.id


def test_a_studio_job_runs_in_a_span_linked_to_the_api_request_that_submitted_it(
    spans: InMemorySpanExporter, session: Session
) -> None:
    user = make_user(session, "ada@example.com", balance=50)
    key = api_keys.create_key(session, owner=user, name="studio")
    session.commit()
    client = TestClient(create_api(), raise_server_exceptions=False)
    response = client.post(
        "/api/jobs",
        headers={"Authorization": f"Bearer {key.key}"},
        data={"spec": json.dumps(RESIZE_WEBP)},
        files=[("files", ("a.jpg", photo(), "image/jpeg"))],
    )
    assert response.status_code == 202, response.text

    assert [task.name for task in run_queue()] == ["run_job"]

    (request_span,) = _named(spans, "POST /api/jobs")
    (task_span,) = _named(spans, "task run_job")
    (link,) = task_span.links
    assert request_span.context is not None
    assert link.context.span_id == request_span.context.span_id
    # The job's own SQL statements belong to the task's trace.
    assert any(
        s.parent is not None
        and s.parent.span_id == task_span.context.span_id
        and "db.statement" in (s.attributes or {})
        for s in spans.get_finished_spans()
        if task_span.context is not None
    )

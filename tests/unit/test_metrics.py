"""GET /metrics: scraped with Prometheus' own parsers (the text format, and OpenMetrics through
its strict parser), the token, HTTP requests by route template, and the business metrics moved
by the real services doing the real thing (the offline analyzer through the API, the ledger,
a webhook to a loopback receiver, a studio job and generations on the real queue, an upload).

The metrics are process-wide counters, so every check compares before and after.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from app.api import create_api
from app.api.metrics import UNMATCHED
from app.services.accounts import api_keys
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.setup import ensure_models
from app.services.billing import credits
from app.services.core.errors import (
    ContentRefusedError,
    InvalidOutputError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderPaymentError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    UnknownModelError,
)
from app.services.core.models import ProviderCall, User, utcnow
from app.services.core.provider_calls import error_kind, prune_provider_calls, record_provider_call
from app.services.core.queue import get_huey, task_once
from app.services.demo.images import demo_catalog, render_demo_png
from app.services.generation import runs
from app.services.library.writes import create_prompt
from app.services.studio import jobs
from app.services.studio.imageops import parse_spec, process_image
from app.services.webhooks import dispatch
from app.services.webhooks.endpoints import create_endpoint
from app.services.webhooks.outbox import emit
from app.settings import reset_settings
from tests.utils.fakes.fal_server import KEY as FAL_KEY
from tests.utils.fakes.fal_server import FakeFalServer
from tests.utils.fakes.fal_server import error as fal_error
from tests.utils.fakes.openai_server import FakeOpenAIServer, error_reply
from tests.utils.fakes.together_server import KEY as TOGETHER_KEY
from tests.utils.fakes.together_server import FakeTogetherServer
from tests.utils.fakes.together_server import error as together_error
from tests.utils.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.utils.imageops_samples import photo_jpeg
from tests.utils.job_helpers import make_user, photo, run_queue, spec, uploads
from tests.utils.prompt_factories import prompt_data

TOKEN = "metrics-token-0123456789abcdef"
BUSINESS = {
    "jsoncraft_analyses": "counter",
    "jsoncraft_analysis_duration_seconds": "histogram",
    "jsoncraft_generations": "counter",
    "jsoncraft_generation_images": "counter",
    "jsoncraft_credits": "counter",
    "jsoncraft_studio_jobs": "counter",
    "jsoncraft_studio_job_duration_seconds": "histogram",
    "jsoncraft_studio_items": "counter",
    "jsoncraft_webhook_deliveries": "counter",
    "jsoncraft_upload_bytes": "counter",
    "jsoncraft_uploads": "counter",
    "jsoncraft_provider_calls": "counter",
    "jsoncraft_provider_errors": "counter",
    "jsoncraft_provider_call_duration_seconds": "histogram",
    "jsoncraft_http_requests": "counter",
    "jsoncraft_http_request_duration_seconds": "histogram",
    "jsoncraft_queue_depth": "gauge",
}


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def scrape(client: TestClient, **headers: str) -> list[Metric]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return list(text_string_to_metric_families(answer.text))


def value(families: list[Metric], sample: str, **labels: str) -> float:
    """The sum of `sample`'s values whose labels include `labels` (0 when there are none)."""
    return sum(
        s.value
        for family in families
        for s in family.samples
        if s.name == sample and labels.items() <= s.labels.items()
    )


# -- the endpoint ------------------------------------------------------------------------------


def test_the_scrape_parses_as_text_and_as_strict_openmetrics(client: TestClient) -> None:
    client.get("/api/health")  # so the HTTP metrics have a sample
    families = {f.name: f for f in scrape(client)}
    for name, kind in BUSINESS.items():
        assert name in families, name
        assert families[name].type == kind and families[name].documentation, name
    assert value(list(families.values()), "jsoncraft_http_requests_total") >= 1

    # OpenMetrics, as Prometheus asks for it: its parser refuses anything out of spec (names,
    # escaping, bucket order, _total suffixes, a missing # EOF).
    answer = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n")
    strict = {f.name: f for f in openmetrics_families(answer.text)}
    for name, kind in BUSINESS.items():
        assert strict[name].type == kind, name
    # Broken exposition is refused by that parser: the check above can fail.
    with pytest.raises(ValueError):
        list(openmetrics_families(answer.text.replace("# EOF\n", "")))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": "Bearer "},
    ],
)
def test_a_set_token_is_required(
    db_url: str, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    reset_settings()
    client = TestClient(create_api())
    refused = client.get("/metrics", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in refused.text and "jsoncraft_" not in refused.text
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_without_a_token_metrics_are_open_and_not_in_the_api_schema(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200
    assert "/metrics" not in client.get("/api/openapi.json").json()["paths"]


# -- HTTP requests -----------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_method_and_status(client: TestClient) -> None:
    before = scrape(client)
    for upload_id in ("up_one", "up_two", "up_three"):
        assert client.get(f"/api/uploads/{upload_id}").status_code == 401
    assert client.delete("/api/health").status_code == 405
    for path in ("/no/such/page", "/api/nope/123", "/api/uploads/up_1/nope"):
        assert client.get(path).status_code == 404
    after = scrape(client)

    def moved(**labels: str) -> float:
        name = "jsoncraft_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    template = "/api/uploads/{upload_id}"
    assert moved(route=template, method="GET", status="401") == 3
    assert moved(route="/api/health", method="DELETE", status="405") == 1
    assert moved(route=UNMATCHED, method="GET", status="404") == 3
    routes = {s.labels["route"] for f in after for s in f.samples if "route" in s.labels}
    assert not any("up_one" in r or "no/such" in r or "nope" in r for r in routes)
    histogram = "jsoncraft_http_request_duration_seconds_count"
    assert value(after, histogram, route=template) - value(before, histogram, route=template) == 3
    # The scrape itself is a request like any other.
    assert moved(route="/metrics", method="GET", status="200") == 1


def test_reflex_mounted_inside_the_api_is_labelled_by_its_own_routes(db_url: str) -> None:
    """Reflex mounts its app (events, ping, the compiled frontend) inside ours at "" through
    api_transformer: those requests are labelled by the inner routes."""

    async def ping(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("pong")

    async def static(_scope: Any, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"<html></html>"})

    def boom(thing: str) -> PlainTextResponse:
        raise RuntimeError(f"unexpected {thing}")

    api: FastAPI = create_api()
    api.add_api_route("/api/boom/{thing}", boom, include_in_schema=False)
    reflex_like = Starlette(routes=[Route("/ping", ping), Mount("", app=static)])
    api.mount("", reflex_like)  # what Reflex does with an api_transformer
    client = TestClient(api, raise_server_exceptions=False)
    before = scrape(client)
    assert client.get("/ping").text == "pong"
    assert client.get("/gallery/anything").status_code == 200
    assert client.get("/api/boom/x").status_code == 500
    after = scrape(client)

    def moved(route: str, status: str) -> float:
        name = "jsoncraft_http_requests_total"
        return value(after, name, route=route, status=status) - value(
            before, name, route=route, status=status
        )

    assert moved("/ping", "200") == 1
    assert moved("/{path}", "200") == 1  # the frontend's files: one label
    assert moved("/api/boom/{thing}", "500") == 1


# -- business metrics, moved by the real services --------------------------------------------


def test_an_analysis_through_the_api_moves_its_counter_histogram_and_provider_call(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, "dev@example.com")
    key = api_keys.create_key(session, owner=user, name="test").key
    session.commit()
    image = render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))
    model = "local/jsoncraft-vision"
    before = scrape(client)
    answer = client.post(
        "/api/analyze",
        headers={"Authorization": f"Bearer {key}"},
        files={"image": ("sunset.png", image, "image/png")},
    )
    assert answer.status_code == 200, answer.text
    after = scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    assert moved("jsoncraft_analyses_total", model=model, outcome="succeeded") == 1
    assert moved("jsoncraft_analysis_duration_seconds_count", model=model) == 1
    assert moved("jsoncraft_analysis_duration_seconds_sum", model=model) > 0
    assert moved("jsoncraft_provider_calls_total", provider="local", operation="analysis") == 1
    assert moved("jsoncraft_provider_errors_total", provider="local") == 0
    assert moved("jsoncraft_http_requests_total", route="/api/analyze", status="200") == 1
    rows = session.exec(select(ProviderCall)).all()
    assert [(r.provider, r.operation, r.error_kind) for r in rows] == [("local", "analysis", None)]


def test_a_refused_analysis_counts_the_providers_error_by_kind(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer() as server:
        server.script(error_reply(401, "No auth credentials found"))
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key")
        monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
        reset_settings()
        ensure_models()
        before = scrape(client)

        async def go() -> list[Update]:
            image = ImageInput(render_demo_png(demo_catalog()[0]), "image/png")
            return [
                u
                async for u in run_analysis(
                    kind="describe",
                    model_id="nemotron",
                    user_id=None,
                    image=image,
                    use_memory=False,
                )
            ]

        updates = asyncio.run(go())
    assert updates[-1].kind == "error"
    after = scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    errors = moved("jsoncraft_provider_errors_total", provider="openrouter", kind="auth")
    assert errors == 1
    assert moved("jsoncraft_analyses_total", outcome="failed") == 1
    (row,) = session.exec(select(ProviderCall)).all()
    assert (row.provider, row.operation, row.error_kind) == ("openrouter", "analysis", "auth")


def test_credits_reserved_committed_and_refunded_count_once_per_key(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, "ada@example.com", balance=100)
    assert user.id is not None
    before = scrape(client)
    credits.reserve(session, user_id=user.id, amount=10, idempotency_key="a")
    credits.reserve(session, user_id=user.id, amount=10, idempotency_key="a")  # a repeat
    credits.commit(session, key="a", actual=7)
    credits.commit(session, key="a", actual=7)
    credits.reserve(session, user_id=user.id, amount=4, idempotency_key="b")
    credits.refund(session, key="b")
    credits.refund(session, key="b")
    after = scrape(client)

    def moved(action: str) -> float:
        name = "jsoncraft_credits_total"
        return value(after, name, action=action) - value(before, name, action=action)

    assert (moved("reserved"), moved("committed"), moved("refunded")) == (14, 7, 4)


def test_webhook_deliveries_count_by_outcome(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_SCALE", "0")  # the retry is due at once
    reset_settings()
    owner = make_user(session, "dev@example.com")
    project_id = api_keys.create_key(session, owner=owner, project_name="Site").project_id
    with WebhookReceiver() as receiver:
        receiver.script(Reply(503), Reply(200))
        create_endpoint(
            session, project_id=project_id, url=receiver.url, events=["upload.completed"]
        )
        session.commit()
        before = scrape(client)
        emit(session, project_id=project_id, event_type="upload.completed", data={"id": "up_1"})
        session.commit()
        run_queue()  # the first attempt, kicked by the commit: 503, so a retry is due
        middle = scrape(client)
        assert len(dispatch.sweep()) == 1
        run_queue()
        after = scrape(client)
    assert len(receiver.requests) == 2
    name = "jsoncraft_webhook_deliveries_total"
    assert value(middle, name, outcome="retrying") - value(before, name, outcome="retrying") == 1
    assert value(middle, name, outcome="delivered") == value(before, name, outcome="delivered")
    assert value(after, name, outcome="delivered") - value(before, name, outcome="delivered") == 1


def test_a_studio_job_counts_itself_its_items_and_its_duration(
    client: TestClient, session: Session
) -> None:
    ada = make_user(session, "ada@example.com")
    before = scrape(client)
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("one.jpg", photo()), ("two.jpg", photo()), ("bad.jpg", b"\xff\xd8\xff")),
        mode="now",
    )
    run_queue()
    assert jobs.get_job(session, user=ada, job_id=view.id).status == "done"
    after = scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    assert moved("jsoncraft_studio_jobs_total", outcome="done") == 1
    assert moved("jsoncraft_studio_job_duration_seconds_count", outcome="done") == 1
    assert moved("jsoncraft_studio_items_total", outcome="done") == 2
    # The corrupt file was refused at upload, before any worker: not a worker's item.
    assert moved("jsoncraft_studio_items_total", outcome="failed") == 0


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogetherServer]:
    with FakeTogetherServer() as server:
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
        reset_settings()
        yield server


def test_generations_count_runs_images_and_the_providers_calls(
    client: TestClient, session: Session, together: FakeTogetherServer
) -> None:
    ada = make_user(session, "ada@example.com", balance=50)
    assert ada.id is not None
    saved = create_prompt(session, owner_id=ada.id, title="Lighthouse", data=prompt_data("A cliff"))
    model = "black-forest-labs/FLUX.1-schnell"
    before = scrape(client)
    runs.start_generation(session, user=ada, model=model, prompt_id=saved.id, n=2)
    run_queue()
    together.script(together_error(402, "Credit limit exceeded"))
    runs.start_generation(session, user=ada, model=model, prompt_id=saved.id, n=1)
    run_queue()
    after = scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    assert moved("jsoncraft_generations_total", outcome="done") == 1
    assert moved("jsoncraft_generations_total", outcome="failed") == 1
    assert moved("jsoncraft_generation_images_total", model=model, outcome="done") == 2
    assert moved("jsoncraft_generation_images_total", model=model, outcome="failed") == 1
    calls = moved("jsoncraft_provider_calls_total", provider="together", operation="generation")
    assert calls == 3
    assert moved("jsoncraft_provider_errors_total", provider="together", kind="payment") == 1
    rows = session.exec(select(ProviderCall).order_by(ProviderCall.id)).all()  # type: ignore[arg-type]
    assert [(r.provider, r.operation, r.error_kind) for r in rows] == [
        ("together", "generation", None),
        ("together", "generation", None),
        ("together", "generation", "payment"),
    ]
    assert all(r.duration_ms >= 0 for r in rows)


def test_a_completed_upload_counts_its_bytes(client: TestClient, session: Session) -> None:
    dev: User = make_user(session, "dev@example.com")
    key = api_keys.create_key(session, owner=dev, project_name="Site").key
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    data = out.getvalue()
    before = scrape(client)
    answer = client.post(
        "/api/uploads",
        json={"files": [{"name": "a.png", "size": len(data), "type": "image/png"}]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    upload = answer.json()["uploads"][0]
    link = urlsplit(upload["url"])
    stored = client.put(f"{link.path}?{link.query}", content=data, headers=upload["headers"])
    assert stored.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    done = client.post(f"/api/uploads/{upload['id']}/complete", headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "ready"
    again = client.post(f"/api/uploads/{upload['id']}/complete", headers=headers)
    assert again.status_code == 200  # idempotent: counted once
    after = scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    assert moved("jsoncraft_upload_bytes_total", status="ready") == len(data)
    assert moved("jsoncraft_uploads_total", status="ready") == 1
    complete = "/api/uploads/{upload_id}/complete"
    assert moved("jsoncraft_http_requests_total", route=complete, status="200") == 2


def _noop() -> None:
    return None


def test_queue_depth_is_read_from_the_queue_when_scraped(client: TestClient) -> None:
    huey = get_huey()
    task = task_once(huey, _noop, name="metrics_test_noop")
    start = value(scrape(client), "jsoncraft_queue_depth", state="pending")
    assert start == huey.pending_count()
    task()
    task()
    assert value(scrape(client), "jsoncraft_queue_depth", state="pending") == start + 2
    huey.flush()
    assert value(scrape(client), "jsoncraft_queue_depth", state="pending") == 0
    # A task not due yet: a worker takes it off the queue and parks it in the schedule.
    task.schedule(delay=3600)
    waiting = huey.dequeue()
    assert waiting is not None
    huey.add_schedule(waiting)
    depth = scrape(client)
    assert value(depth, "jsoncraft_queue_depth", state="scheduled") == 1
    assert value(depth, "jsoncraft_queue_depth", state="pending") == 0


# -- provider calls --------------------------------------------------------------------------


def test_fal_image_ops_in_the_engine_count_calls_and_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = {"provider": "fal", "operation": "imageops"}
    calls = REGISTRY.get_sample_value("jsoncraft_provider_calls_total", labels) or 0
    denied = {**labels, "kind": "auth"}
    errors = REGISTRY.get_sample_value("jsoncraft_provider_errors_total", denied) or 0
    spec_ = parse_spec({"remove_background": {"provider": "fal"}, "convert": {"format": "png"}})
    with FakeFalServer() as fal:
        monkeypatch.setenv("FAL_BASE_URL", fal.url)
        monkeypatch.setenv("FAL_KEY", FAL_KEY)
        reset_settings()
        process_image(photo_jpeg((64, 48)), "p.jpg", spec_)
        fal.script(fal_error(401, "Invalid key"))
        with pytest.raises(ProviderAuthError):
            process_image(photo_jpeg((64, 48)), "p.jpg", spec_)
    assert REGISTRY.get_sample_value("jsoncraft_provider_calls_total", labels) == calls + 2
    assert REGISTRY.get_sample_value("jsoncraft_provider_errors_total", denied) == errors + 1


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (RateLimitedError("slow down", retry_after=3), "rate_limited"),
        (ProviderTimeoutError("late"), "timeout"),
        (ProviderAuthError("key"), "auth"),
        (MissingKeyError("no key"), "missing_key"),
        (ProviderPaymentError("pay"), "payment"),
        (ProviderUnavailableError("down"), "unavailable"),
        (ModelNotFoundError("gone"), "model_not_found"),
        (UnknownModelError("what"), "unknown_model"),
        (ContentRefusedError("no"), "refused"),
        (InvalidOutputError("junk"), "invalid_output"),
        (ProviderError("other"), "provider"),
        (RuntimeError("bug"), "internal"),
        (None, None),
    ],
)
def test_error_kinds_follow_the_provider_error_classes(
    error: BaseException | None, kind: str | None
) -> None:
    assert error_kind(error) == kind


def test_a_failed_insert_is_logged_and_the_metrics_still_move(
    isolated_settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    # No migration ran: the table is missing, so the insert fails.
    labels = {"provider": "fal", "operation": "lora", "kind": "timeout"}
    before = REGISTRY.get_sample_value("jsoncraft_provider_errors_total", labels) or 0
    record_provider_call("fal", "lora", "timeout", 1.5)
    assert REGISTRY.get_sample_value("jsoncraft_provider_errors_total", labels) == before + 1
    assert "could not record a fal lora call" in caplog.text


def test_maintenance_prunes_provider_calls_older_than_a_week(session: Session) -> None:
    now = utcnow()
    for age in (timedelta(days=8), timedelta(days=7, minutes=1), timedelta(days=6)):
        session.add(ProviderCall(provider="fal", operation="lora", created_at=now - age))
    session.commit()
    assert prune_provider_calls(session) == 2
    session.commit()
    left = session.exec(select(ProviderCall)).all()
    assert [now - r.created_at.replace(tzinfo=now.tzinfo) < timedelta(days=7) for r in left] == [
        True
    ]

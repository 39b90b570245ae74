"""With OTEL_EXPORTER_OTLP_ENDPOINT and SENTRY_DSN set, a failing API request's spans reach a
loopback OTLP/HTTP collector and its error reaches a loopback Sentry, both under the reference
the person saw. Run in a fresh process: tracing and Sentry are set up once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.utils.fakes.otlp_collector import OtlpCollector
from tests.utils.fakes.sentry_server import SentryServer

ROOT = Path(__file__).resolve().parents[2]

# A web process in miniature: the same setup calls as app/app.py, one route that fails.
APP_PROCESS = """
import json
import sentry_sdk
from fastapi.testclient import TestClient
from app.settings import get_settings
from app.services.core.error_events import setup_error_reporting
from app.services.core.migrations import upgrade_to_head
from app.services.core.tracing import force_flush, setup_tracing

setup_tracing(get_settings())
setup_error_reporting(get_settings())
upgrade_to_head(get_settings().resolved_database_url)
from app.api import create_api

api = create_api()

@api.get("/api/test-boom/{item_id}")
def boom(item_id: int) -> None:
    raise RuntimeError(f"item {item_id} failed with password=hunter2")

response = TestClient(api, raise_server_exceptions=False).get("/api/test-boom/3")
force_flush()
sentry_sdk.flush(timeout=10)
print(json.dumps({"status": response.status_code, **response.json()}))
"""


def test_spans_go_over_otlp_and_the_error_to_sentry_under_the_reference() -> None:
    with OtlpCollector() as collector, SentryServer() as sentry:
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_SERVICE_NAME": "jsoncraft-web-test",
            "SENTRY_DSN": sentry.dsn,
        }
        done = subprocess.run(
            [sys.executable, "-c", APP_PROCESS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        server = collector.wait_for("GET /api/test-boom/{item_id}")
        event = sentry.wait_for_event()
        spans = list(collector.spans)

    reference = answer["error_id"]
    assert answer["status"] == 500
    assert answer["detail"] == f"Something went wrong on our side. Reference: {reference}"
    assert server.trace_id == reference
    assert server.service_name == "jsoncraft-web-test"
    # The ErrorEvent row written for it is a traced SQL statement of the same request.
    inserts = [
        s
        for s in spans
        if s.trace_id == reference
        and str(s.attributes.get("db.statement", "")).startswith("INSERT INTO error_events")
    ]
    assert len(inserts) == 1

    assert event["tags"]["reference"] == reference
    assert event["tags"]["trace_id"] == reference
    assert event["tags"]["source"] == "api"
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "item 3 failed with password=[redacted]"
    assert "hunter2" not in json.dumps(event)
    assert "user" not in event

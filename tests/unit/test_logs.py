"""JSON logs carry the request id and never the secrets."""

from __future__ import annotations

import io
import json
import logging

from pythonjsonlogger.json import JsonFormatter

from app.services.core.logs import RedactSecretsFilter, RequestIdFilter, redact, request_id_var


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(message)s %(request_id)s"))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("jsoncraft.test-capture")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_log_lines_are_json_with_the_request_id() -> None:
    logger, stream = _capture()
    token = request_id_var.set("abc123")
    try:
        logger.info("hello", extra={"path": "/api/health"})
    finally:
        request_id_var.reset(token)
    line = json.loads(stream.getvalue())
    assert line["message"] == "hello"
    assert line["request_id"] == "abc123"
    assert line["path"] == "/api/health"


def test_secrets_are_masked() -> None:
    logger, stream = _capture()
    logger.info("calling with Bearer sk-live-123 and password=hunter2", extra={"api_key": "k-999"})
    text = stream.getvalue()
    assert "sk-live-123" not in text and "hunter2" not in text and "k-999" not in text
    assert "[redacted]" in text
    assert redact("token: abc def") == "token: [redacted] def"

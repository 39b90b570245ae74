"""Structured JSON logs with a request id and the trace and span ids of the span recording at
the time (core/tracing.py; "-" when none), and a filter that keeps secrets out of them."""

from __future__ import annotations

import contextvars
import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from app.services.core.tracing import current_ids

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SECRET_KEYS = re.compile(r"(password|secret|token|api[_-]?key|authorization|cookie)", re.I)
# Values that look like bearer tokens or key=value secrets inside free text.
_SECRET_TEXT = re.compile(
    r"(?i)(bearer\s+|(?:password|secret|token|api[_-]?key)\s*[=:]\s*)([^\s,;\"']+)"
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        ids = current_ids()
        record.trace_id, record.span_id = ids if ids else ("-", "-")
        return True


class RedactSecretsFilter(logging.Filter):
    """Last line of defence: code should never log secrets, but if it does they are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if _SECRET_KEYS.search(key) and key not in ("msg", "args"):
                setattr(record, key, "[redacted]")
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, tuple):
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {
                    k: ("[redacted]" if _SECRET_KEYS.search(str(k)) else v)
                    for k, v in record.args.items()
                }
        return True


def redact(text: str) -> str:
    return _SECRET_TEXT.sub(lambda m: m.group(1) + "[redacted]", text)


_configured = False


def json_formatter() -> JsonFormatter:
    """One JSON object per line; the filters below supply request_id, trace_id and span_id."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(trace_id)s %(span_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(*, level: str = "INFO", json_output: bool = True) -> None:
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    if json_output:
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger("jsoncraft")
    root.setLevel(level.upper())
    root.addHandler(handler)
    root.propagate = False
    _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"jsoncraft.{name}")

"""Unexpected errors that a person was shown a reference for, kept where admins can search them.

Wherever a "Reference: ..." is made (core/errors.py `new_error_id`), the code beside it calls
`record_error`: one `ErrorEvent` row (/admin/system lists them), and one Sentry event when
SENTRY_DSN is set (`setup_error_reporting`, beside `setup_tracing` in each process).
Recording never raises: a database that is down must not turn one error into another, so a
failed write is only logged.
"""

from __future__ import annotations

from typing import Any

from app.services.core.db import session_scope
from app.services.core.logs import get_logger, redact
from app.services.core.models import ErrorEvent
from app.services.core.tracing import current_source, current_trace_id
from app.settings import APP_VERSION, Settings

log = get_logger("errors")

SOURCES = ("api", "page", "worker", "cli")
_sentry = False


def setup_error_reporting(settings: Settings) -> None:
    """Start the Sentry SDK when SENTRY_DSN is set. It gets the errors `record_error` reports
    and nothing else: no automatic integrations (they would report logged and handled errors a
    second time), no request data, no local variables (they may hold secrets), messages
    redacted."""
    global _sentry
    if _sentry or settings.sentry_dsn is None:
        return
    import sentry_sdk
    from sentry_sdk.integrations.atexit import AtexitIntegration
    from sentry_sdk.integrations.dedupe import DedupeIntegration

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        release=f"jsoncraft@{APP_VERSION}",
        # Nobody's identity, and no frame variables (they may hold secrets or personal data).
        data_collection={"user_info": False, "stack_frame_variables": False},
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[AtexitIntegration(), DedupeIntegration()],
        before_send=_redact_event,
    )
    _sentry = True


def _redact_event(event: Any, _hint: Any) -> Any:
    for exception in event.get("exception", {}).get("values", []):
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
    return event


def record_error(
    exc: BaseException,
    *,
    reference: str,
    location: str,
    source: str | None = None,
    user_id: int | None = None,
) -> None:
    """Keep `exc` as an ErrorEvent under `reference` (what the person saw), from `source`
    (api|page|worker|cli; by default the one `current_source` finds) at `location` (route
    template, event handler or task name)."""
    source = source or current_source()
    trace_id = current_trace_id()
    _report_to_sentry(exc, reference=reference, trace_id=trace_id, source=source)
    try:
        with session_scope() as session:
            session.add(
                ErrorEvent(
                    reference=reference[:64],
                    trace_id=trace_id,
                    source=source,
                    location=location[:300],
                    error_type=type(exc).__qualname__[:120],
                    message=redact(str(exc))[:1000],
                    user_id=user_id,
                )
            )
    except Exception as e:  # the original error is already logged; don't mask it
        log.warning("error %s could not be recorded: %s", reference, type(e).__name__)


def _report_to_sentry(
    exc: BaseException, *, reference: str, trace_id: str | None, source: str
) -> None:
    if not _sentry:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        scope.set_tag("reference", reference)
        scope.set_tag("source", source)
        if trace_id:
            scope.set_tag("trace_id", trace_id)
        sentry_sdk.capture_exception(exc)

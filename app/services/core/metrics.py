"""Every Prometheus metric the app exports, defined here once; services import only this module.

Names start with `jsoncraft_`. Labels hold small, bounded sets of values (outcomes, model ids,
route templates), never ids or raw paths: each label value makes a time series.

Several processes (web workers, queue workers, image pool processes) share one view through
prometheus_client's multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set, each process writes
its counters into files named by its pid in that folder, and `render()` in any web process adds
up every file. The folder must be empty when the processes start (the run scripts wipe it),
and a process marks itself dead at exit (only "live" gauges care; there are none yet, but the
bookkeeping keeps it right when one is added). The queue depth is read at scrape time instead.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

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
from app.services.core.logs import get_logger
from app.settings import get_settings

log = get_logger("metrics")


def _multiprocess_dir() -> Path | None:
    """The shared folder, when this process runs among several. prometheus_client decides its
    storage when it is imported, from the environment; a folder named only in .env is handed
    to it here, before the first metric below is made."""
    directory = get_settings().prometheus_multiproc_dir
    if directory is None:
        return None
    directory = directory.resolve()  # pool processes and forks may run from another folder
    directory.mkdir(parents=True, exist_ok=True)
    # Absolute for the library too: it joins the variable into each file's path when a value
    # is first written, from whatever folder the process is in then.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()
    return directory


MULTIPROCESS_DIR = _multiprocess_dir()

# Seconds: from a fast JSON call to a long streamed analysis or upload.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Seconds: a model call, a studio job of many images.
_WORK_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter(
    "jsoncraft_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "jsoncraft_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template and method.",
    ["route", "method"],
    buckets=_HTTP_BUCKETS,
)
ANALYSES = Counter(
    "jsoncraft_analyses",
    "Analyses (describe and refine) finished, by model and outcome.",
    ["model", "outcome"],
)
ANALYSIS_DURATION = Histogram(
    "jsoncraft_analysis_duration_seconds",
    "Time an analysis took from its model call to its outcome, by model and outcome.",
    ["model", "outcome"],
    buckets=_WORK_BUCKETS,
)
GENERATIONS = Counter(
    "jsoncraft_generations",
    "Generation runs finished, by outcome (done, failed, cancelled).",
    ["outcome"],
)
GENERATION_IMAGES = Counter(
    "jsoncraft_generation_images",
    "Generated images finished, by model and outcome (done, failed).",
    ["model", "outcome"],
)
CREDITS = Counter(
    "jsoncraft_credits",
    "Credits moved by paid actions: reserved before, then committed (charged) or refunded.",
    ["action"],
)
STUDIO_JOBS = Counter(
    "jsoncraft_studio_jobs",
    "Studio jobs finished, by outcome (done, failed, cancelled).",
    ["outcome"],
)
STUDIO_JOB_DURATION = Histogram(
    "jsoncraft_studio_job_duration_seconds",
    "Time from a studio job's start on a worker to its finish, by outcome.",
    ["outcome"],
    buckets=_WORK_BUCKETS,
)
STUDIO_ITEMS = Counter(
    "jsoncraft_studio_items",
    "Studio job images finished, by outcome (done, failed).",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "jsoncraft_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered, retrying, failed).",
    ["outcome"],
)
UPLOAD_BYTES = Counter(
    "jsoncraft_upload_bytes",
    "Bytes of completed developer uploads, by their status (ready, rejected).",
    ["status"],
)
UPLOADS = Counter(
    "jsoncraft_uploads",
    "Developer uploads completed, by their status (ready, rejected).",
    ["status"],
)
PROVIDER_CALLS = Counter(
    "jsoncraft_provider_calls",
    "Calls to model providers that finished, by provider and operation (errors included).",
    ["provider", "operation"],
)
PROVIDER_ERRORS = Counter(
    "jsoncraft_provider_errors",
    "Failed calls to model providers, by provider, operation and kind of error.",
    ["provider", "operation", "kind"],
)
PROVIDER_DURATION = Histogram(
    "jsoncraft_provider_call_duration_seconds",
    "Time a call to a model provider took, by provider and operation.",
    ["provider", "operation"],
    buckets=_WORK_BUCKETS,
)


# The most specific class wins: checked in this order.
_ERROR_KINDS: tuple[tuple[type[ProviderError], str], ...] = (
    (RateLimitedError, "rate_limited"),
    (ProviderTimeoutError, "timeout"),
    (ProviderAuthError, "auth"),
    (MissingKeyError, "missing_key"),
    (ProviderPaymentError, "payment"),
    (ProviderUnavailableError, "unavailable"),
    (ModelNotFoundError, "model_not_found"),
    (UnknownModelError, "unknown_model"),
    (ContentRefusedError, "refused"),
    (InvalidOutputError, "invalid_output"),
)


def error_kind(error: BaseException | None) -> str | None:
    """The short kind a provider's error is counted under; None for no error."""
    if error is None:
        return None
    for cls, kind in _ERROR_KINDS:
        if isinstance(error, cls):
            return kind
    return "provider" if isinstance(error, ProviderError) else "internal"


def count_provider_call(provider: str, operation: str, kind: str | None, seconds: float) -> None:
    """The metrics of one finished provider call. Code with a database records the call with
    provider_calls.record_provider_call (these metrics and a row); the image engine, which
    has no database, counts here alone."""
    PROVIDER_CALLS.labels(provider=provider, operation=operation).inc()
    PROVIDER_DURATION.labels(provider=provider, operation=operation).observe(max(seconds, 0.0))
    if kind is not None:
        PROVIDER_ERRORS.labels(provider=provider, operation=operation, kind=kind).inc()


class QueueDepth(Collector):
    """Tasks waiting in the job queue, read when scraped: the queue itself is the one truth,
    shared by every process, so nothing is counted by hand."""

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        from app.services.core.queue import get_huey

        try:
            huey = get_huey()
            pending, scheduled = int(huey.pending_count()), int(huey.scheduled_count())
        except Exception as e:  # a scrape must still answer while the queue is down
            log.warning("queue depth unavailable for /metrics: %s", e)
            return
        family = self._family()
        family.add_metric(["pending"], pending)
        family.add_metric(["scheduled"], scheduled)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "jsoncraft_queue_depth",
            "Tasks in the job queue: pending (ready to run) and scheduled (retries, delays).",
            labels=["state"],
        )


REGISTRY.register(QueueDepth())


def render(accept: str = "") -> tuple[bytes, str]:
    """The exposition for a scrape: (body, content type), OpenMetrics when `accept` asks for it.

    One process alone: its own registry (with process and GC metrics). Among several: every
    process's files added up, plus the queue depth."""
    registry: CollectorRegistry = REGISTRY
    if MULTIPROCESS_DIR is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(MULTIPROCESS_DIR))
        registry.register(QueueDepth())
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


def mark_process_dead(pid: int | None = None) -> None:
    """Tell the shared folder that a process (this one by default) has stopped."""
    if MULTIPROCESS_DIR is not None:
        multiprocess.mark_process_dead(pid or os.getpid(), str(MULTIPROCESS_DIR))


if MULTIPROCESS_DIR is not None:
    atexit.register(mark_process_dead)

"""Turn a provider's HTTP status or error chunk into an error the user can act on.

Messages never carry the API key, and quote at most ~200 characters of what the provider
said: enough to recognise the problem, too little to dump a whole response body.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from app.services.core.errors import (
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderPaymentError,
    ProviderTimeoutError,
    RateLimitedError,
    RetryableError,
)

_CLIP = 200
_RETRYABLE_CODES = {"server_error", "provider_error", "internal_error", "service_unavailable"}
_MODEL_MISSING = re.compile(r"not a valid model|model[_ ]not[_ ]found|no endpoints found", re.I)


def clip(text: str, api_key: str | None) -> str:
    """Short, single-line and key-free: safe to put in a message or a log line."""
    if api_key:
        text = text.replace(api_key, "[key]")
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


async def read_limited(response: httpx.Response, limit: int = 4096) -> str:
    """The start of an error body; a misbehaving server may send megabytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit].decode("utf-8", "replace")


def error_for_status(
    status: int,
    body: str,
    *,
    retry_after: str | None,
    label: str,
    model: str,
    api_key: str | None,
    key_env_var: str | None,
) -> Exception:
    detail = _detail(body, api_key)
    said = f": {detail}" if detail else ""
    if status == 401 or (status == 403 and not re.search(r"moderat|flagged", detail, re.I)):
        fix = f"Check {key_env_var}" if key_env_var else "Check the endpoint's API key"
        return ProviderAuthError(
            f"{label} refused the API key (HTTP {status}). {fix} or pick the offline model."
        )
    if status == 402:
        return ProviderPaymentError(
            f"{label} says the account is out of credit (HTTP 402). Add credit with the "
            "provider, or pick a free or the offline model."
        )
    if status == 404 or (status == 400 and _MODEL_MISSING.search(detail)):
        return ModelNotFoundError(
            f"{label} does not offer the model '{model}' (HTTP {status}{said}). Pick another model."
        )
    if status == 408:
        return ProviderTimeoutError(f"{label} gave up waiting for the model. Try again.")
    if status == 429:
        seconds = parse_retry_after(retry_after)
        when = f"in {seconds} seconds" if seconds is not None else "in a minute"
        return RateLimitedError(
            f"{label} is limiting requests to '{model}' right now. Try again {when}, "
            "or pick another model.",
            retry_after=seconds,
        )
    if status >= 500:
        return RetryableError(f"HTTP {status}")
    return ProviderError(f"{label} refused the request (HTTP {status}{said}).")


def error_for_chunk(error: object, *, label: str, model: str, api_key: str | None) -> Exception:
    """OpenRouter reports failures after the 200 header as `{"error": {...}}` in a chunk."""
    err = error if isinstance(error, Mapping) else {"message": str(error)}
    code = err.get("code")
    message = err.get("message")
    detail = clip(message, api_key) if isinstance(message, str) else ""
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        return error_for_status(
            code,
            detail,
            retry_after=None,
            label=label,
            model=model,
            api_key=api_key,
            key_env_var=None,
        )
    if isinstance(code, str) and code.lower() in _RETRYABLE_CODES:
        return RetryableError(f"provider error: {detail or code}")
    if isinstance(code, str) and "rate" in code.lower():
        return RateLimitedError(
            f"{label} is limiting requests to '{model}' right now. Try again in a minute.",
        )
    said = f": {detail}" if detail else ""
    return ProviderError(f"{label} reported an error part-way through the answer{said}.")


def timeout_error(
    label: str, timeout: httpx.Timeout, error: httpx.TimeoutException
) -> ProviderTimeoutError:
    limit = timeout.connect if isinstance(error, httpx.ConnectTimeout) else timeout.read
    within = f" within {limit:g} seconds" if limit else ""
    return ProviderTimeoutError(
        f"{label} did not answer{within}. Try again, or pick a faster model."
    )


def parse_retry_after(value: str | None) -> int | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _detail(body: str, api_key: str | None) -> str:
    """The provider's own explanation: `error.message` of a JSON body, else the raw text."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return clip(body, api_key)
    if isinstance(parsed, Mapping):
        error = parsed.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return clip(error["message"], api_key)
        if isinstance(error, str):
            return clip(error, api_key)
        if isinstance(parsed.get("message"), str):
            return clip(parsed["message"], api_key)
    return clip(body, api_key)

"""`GET {base_url}/models`: one bounded request, failures turned into readable errors."""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.services.core.errors import (
    ConfigurationError,
    ProviderAuthError,
    ProviderUnavailableError,
    RateLimitedError,
)
from app.services.core.http_errors import clip, parse_retry_after

# OpenRouter's full answer is ~1 MB; a body many times that is not a model list.
MAX_BYTES = 16 * 1024 * 1024
TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=10.0)


def fetch_models(
    *,
    base_url: str,
    api_key: str | None,
    label: str,
    timeout: httpx.Timeout = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    extra_headers: dict[str, str] | None = None,
) -> Any:
    """The decoded JSON answer of `GET {base_url}/models`, or a ProviderError saying why not."""
    url = base_url.rstrip("/") + "/models"
    headers = {"Accept": "application/json", "User-Agent": "JSONCraft", **(extra_headers or {})}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            body = _read(response, max_bytes, label)
            retry_after = response.headers.get("retry-after")
            status = response.status_code
    except httpx.TimeoutException as e:
        raise ProviderUnavailableError(
            f"{label} did not send its model list in time. Try again later."
        ) from e
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
        raise ConfigurationError(f"The base URL for {label} is not valid: {e}") from e
    except httpx.HTTPError as e:
        raise ProviderUnavailableError(
            f"{label} could not be reached for its model list ({type(e).__name__}). "
            "Try again later."
        ) from e
    if status in (401, 403):
        raise ProviderAuthError(
            f"{label} refused the API key when asked for its model list (HTTP {status})."
        )
    if status == 429:
        raise RateLimitedError(
            f"{label} is limiting requests right now. Refresh the model list in a minute.",
            retry_after=parse_retry_after(retry_after),
        )
    if status != 200:
        detail = clip(body[:4096].decode("utf-8", "replace"), api_key)
        said = f": {detail}" if detail else ""
        raise ProviderUnavailableError(
            f"{label} answered the model list with HTTP {status}{said}. Try again later."
        )
    try:
        return json.loads(body)
    except ValueError as e:
        raise ProviderUnavailableError(f"{label} sent a model list that is not JSON.") from e


def _read(response: httpx.Response, max_bytes: int, label: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ProviderUnavailableError(f"{label} sent a model list too large to accept.")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ProviderUnavailableError(f"{label} sent a model list too large to accept.")
        chunks.append(chunk)
    return b"".join(chunks)

"""The HTTP calls every image provider makes, with one policy for errors and retries.

- `request_json`: one JSON call. Statuses become the one error hierarchy (core/http_errors),
  plus what image vendors add: a safety refusal (ContentRefusedError) and an exhausted
  balance sent as 403 (Fal) or 402 (ProviderPaymentError). 5xx and failed connections are
  retried with the context's backoff (`RetryPolicy`; zero delay in tests); a POST is not
  retried once it may have reached the provider (a read error), so nothing is paid twice.
- `download_image`: a result by URL (with a User-Agent: CDNs refuse requests without one,
  and never with our key) or inline as a data URL. 5xx and bodies that break part-way are
  retried: the image is already paid for, so fetching it again costs nothing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.services.analyzer.providers.openai_chat import RetryPolicy
from app.services.core.errors import (
    ContentRefusedError,
    InvalidOutputError,
    ProviderError,
    ProviderUnavailableError,
    RetryableError,
)
from app.services.core.http import USER_AGENT
from app.services.core.http_errors import (
    clip,
    error_for_status,
    read_limited,
    timeout_error,
)

logger = logging.getLogger(__name__)

# Safety filters: Together ("NSFW content"), Fal ("has_nsfw_concepts"), OpenRouter moderation.
_REFUSED = re.compile(r"nsfw|unsafe|safety|moderat|flagged|content policy", re.I)
# Fal answers 403 "User is locked. Reason: Exhausted balance" when the account is empty.
_NO_BALANCE = re.compile(r"exhausted balance|insufficient (?:funds|balance|credit)", re.I)
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class Endpoint:
    """Who a call goes to, for messages that say what to fix (never showing the key)."""

    label: str  # "Together AI"
    model: str
    api_key: str | None
    key_env_var: str | None


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    endpoint: Endpoint,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
    retry: RetryPolicy,
    body: Any = None,
    ok_statuses: frozenset[int] = frozenset({200, 201, 202}),
    check: Callable[[Any], None] | None = None,
) -> Any:
    """The decoded JSON answer of one call, retried on 5xx and failed connections. `check`
    sees each answer and may raise (RetryableError for an error sent inside a 200 answer)."""
    idempotent = method.upper() in {"GET", "PUT", "DELETE"}
    reason = ""
    for attempt in range(1, retry.attempts + 1):
        try:
            return await _request_once(
                client,
                method,
                url,
                endpoint=endpoint,
                headers=headers,
                timeout=timeout,
                body=body,
                ok_statuses=ok_statuses,
                idempotent=idempotent,
                check=check,
            )
        except RetryableError as e:
            reason = e.reason
            logger.warning(
                "%s %s attempt %d/%d failed: %s",
                endpoint.label,
                method,
                attempt,
                retry.attempts,
                reason,
            )
            if attempt < retry.attempts:
                await asyncio.sleep(retry.delay(attempt))
    raise ProviderUnavailableError(
        f"{endpoint.label} is not answering properly right now ({reason}). Try again in a "
        "few minutes, or pick another model."
    )


async def _request_once(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    endpoint: Endpoint,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
    body: Any,
    ok_statuses: frozenset[int],
    idempotent: bool,
    check: Callable[[Any], None] | None,
) -> Any:
    try:
        async with client.stream(
            method, url, json=body, headers=dict(headers), timeout=timeout
        ) as response:
            if response.status_code not in ok_statuses:
                text = await read_limited(response)
                raise error_for_response(response.status_code, text, response.headers, endpoint)
            raw = await response.aread()
    except httpx.TimeoutException as e:
        raise timeout_error(endpoint.label, timeout, e) from e
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        raise RetryableError(f"could not connect: {type(e).__name__}") from e
    except httpx.TransportError as e:
        if idempotent:
            raise RetryableError(f"connection failed: {type(e).__name__}") from e
        # The request may have been taken (and paid for): do not send it again.
        raise ProviderUnavailableError(
            f"{endpoint.label} dropped the connection before answering. Try again."
        ) from e
    try:
        answer = json.loads(raw)
    except ValueError as e:
        said = clip(raw[:200].decode("utf-8", "replace"), endpoint.api_key)
        raise InvalidOutputError(
            f"{endpoint.label} answered with something that is not JSON: {said}"
        ) from e
    if check is not None:
        check(answer)
    return answer


def error_for_response(
    status: int, body: str, headers: Mapping[str, str], endpoint: Endpoint
) -> Exception:
    """The error for a failed answer: `error_for_status`, plus the image vendors' cases."""
    if status in (402, 403) and _NO_BALANCE.search(body):
        status = 402
    elif 400 <= status < 500 and status not in (401, 402, 429) and _REFUSED.search(body):
        return ContentRefusedError(
            f"{endpoint.label}'s safety filter refused this prompt (HTTP {status}). "
            "Reword the prompt and try again."
        )
    return error_for_status(
        status,
        body,
        retry_after=retry_after(headers),
        label=endpoint.label,
        model=endpoint.model,
        api_key=endpoint.api_key,
        key_env_var=endpoint.key_env_var,
    )


def retry_after(headers: Mapping[str, str]) -> str | None:
    """Seconds to wait as Retry-After gives them, else Together's `x-ratelimit-reset`
    (seconds until the limit resets, possibly fractional: rounded up)."""
    value = headers.get("retry-after")
    if value:
        return value
    reset = headers.get("x-ratelimit-reset")
    try:
        seconds = float(reset) if reset else None
    except ValueError:
        return None
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return str(math.ceil(seconds))


async def download_image(
    client: httpx.AsyncClient,
    url: str,
    *,
    endpoint: Endpoint,
    timeout: httpx.Timeout,
    retry: RetryPolicy,
    limit: int,
) -> tuple[bytes, str]:
    """A result image and its MIME type, from a data URL or a plain GET."""
    if url.startswith("data:"):
        data = decode_data_url(url, endpoint=endpoint)
    elif url.startswith(("https://", "http://")):
        data = await _fetch(
            client, url, endpoint=endpoint, timeout=timeout, retry=retry, limit=limit
        )
    else:
        raise InvalidOutputError(f"{endpoint.label} sent a result link we cannot fetch.")
    if len(data) > limit:
        raise InvalidOutputError(f"{endpoint.label} sent an image larger than we accept.")
    return data, sniff_image(data, endpoint=endpoint)


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    endpoint: Endpoint,
    timeout: httpx.Timeout,
    retry: RetryPolicy,
    limit: int,
) -> bytes:
    reason = ""
    for attempt in range(1, retry.attempts + 1):
        try:
            return await _fetch_once(client, url, endpoint=endpoint, timeout=timeout, limit=limit)
        except RetryableError as e:
            reason = e.reason
            logger.warning("%s download attempt %d failed: %s", endpoint.label, attempt, reason)
            if attempt < retry.attempts:
                await asyncio.sleep(retry.delay(attempt))
    raise ProviderUnavailableError(
        f"{endpoint.label} made the image but downloading it kept failing ({reason}). Try again."
    )


async def _fetch_once(
    client: httpx.AsyncClient, url: str, *, endpoint: Endpoint, timeout: httpx.Timeout, limit: int
) -> bytes:
    # Our User-Agent even on a caller's own client; no Authorization: the CDN must never
    # see our key.
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
    try:
        async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code >= 500:
                raise RetryableError(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise ProviderError(
                    f"{endpoint.label} made the image but it could not be downloaded "
                    f"(HTTP {response.status_code}). Try again."
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise InvalidOutputError(
                        f"{endpoint.label} sent an image larger than we accept."
                    )
            return b"".join(chunks)
    except httpx.TimeoutException as e:
        raise timeout_error(endpoint.label, timeout, e) from e
    except httpx.TransportError as e:  # refused, reset, or a body cut short
        raise RetryableError(f"download broke: {type(e).__name__}") from e


def decode_data_url(url: str, *, endpoint: Endpoint) -> bytes:
    header, _, encoded = url.partition(",")
    if ";base64" not in header:
        raise InvalidOutputError(f"{endpoint.label} sent an image in a form we cannot read.")
    return decode_base64(encoded, endpoint=endpoint)


def decode_base64(encoded: str, *, endpoint: Endpoint) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidOutputError(f"{endpoint.label} sent an image that is not valid base64.") from e


def sniff_image(data: bytes, *, endpoint: Endpoint) -> str:
    """The MIME type by the bytes themselves: the provider's word for it is not checked."""
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidOutputError(f"{endpoint.label} sent back something that is not an image.")

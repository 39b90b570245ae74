"""Background removal by Fal.ai's `fal-ai/imageutils/rembg` model, over its synchronous REST API.

    POST {FAL_BASE_URL}/fal-ai/imageutils/rembg
    Authorization: Key <FAL_KEY>
    {"image_url": "data:image/png;base64,...", "sync_mode": true}
    -> {"image": {"url": "data:image/png;base64,..." or "https://...", ...}}

The image travels inline as a data URL (nothing to host), and `sync_mode` asks for the result
inline too; a hosted result URL is fetched without our key. Errors become the same ProviderError
subclasses as the chat providers (401 -> check FAL_KEY, 429 -> try later, 5xx -> retried).
This runs inside an image worker process, so it is a plain blocking client.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import time
from typing import Any

import httpx
from PIL import Image

from app.services.core.errors import (
    InvalidOutputError,
    MissingKeyError,
    ProviderError,
    ProviderUnavailableError,
    RetryableError,
    UserFacingError,
)
from app.services.core.http_errors import clip, error_for_status, timeout_error
from app.services.core.metrics import count_provider_call, error_kind
from app.services.studio.imageops.decode import decode, read_header
from app.settings import Settings

log = logging.getLogger(__name__)

MODEL = "fal-ai/imageutils/rembg"
LABEL = "Fal.ai"
TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=10.0)
ATTEMPTS = 3
BASE_DELAY = 0.5
_ERROR_BODY_LIMIT = 4096


def remove_background_fal(image: Image.Image, *, settings: Settings) -> Image.Image:
    """The same image, RGBA, with Fal's cut-out as its alpha channel."""
    if settings.fal_key is None or not settings.fal_key.get_secret_value():
        raise MissingKeyError(
            "Background removal with Fal.ai needs FAL_KEY. Set it, or pick the offline method."
        )
    key = settings.fal_key.get_secret_value()
    payload = {"image_url": _data_url(image), "sync_mode": True}
    url = f"{settings.fal_base_url.rstrip('/')}/{MODEL}"
    # Counted in the metrics only: the engine has no database, so no ProviderCall row.
    started = time.monotonic()
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            answer = _post_with_retries(client, url, payload, key=key)
            result_url = _result_url(answer)
            data = _fetch_result(client, result_url, limit=settings.max_upload_bytes)
    except Exception as e:
        count_provider_call("fal", "imageops", error_kind(e), time.monotonic() - started)
        raise
    count_provider_call("fal", "imageops", None, time.monotonic() - started)
    return _as_alpha_of(image, data, max_pixels=settings.max_image_pixels)


def _post_with_retries(client: httpx.Client, url: str, payload: dict[str, Any], *, key: str) -> Any:
    headers = {"Authorization": f"Key {key}", "Accept": "application/json"}
    reason = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _post_once(client, url, payload, headers=headers, key=key)
        except RetryableError as e:
            reason = e.reason
            log.warning("%s attempt %d/%d failed: %s", LABEL, attempt, ATTEMPTS, reason)
            if attempt < ATTEMPTS:
                time.sleep(BASE_DELAY * 2 ** (attempt - 1))
    raise ProviderUnavailableError(
        f"{LABEL} is not answering properly right now ({reason}). Try again later, "
        "or pick the offline method."
    )


def _post_once(
    client: httpx.Client, url: str, payload: dict[str, Any], *, headers: dict[str, str], key: str
) -> Any:
    try:
        with client.stream("POST", url, json=payload, headers=headers) as response:
            if response.status_code != 200:
                body = _read_limited(response, _ERROR_BODY_LIMIT).decode("utf-8", "replace")
                raise error_for_status(
                    response.status_code,
                    body,
                    retry_after=response.headers.get("retry-after"),
                    label=LABEL,
                    model=MODEL,
                    api_key=key,
                    key_env_var="FAL_KEY",
                )
            body_bytes = response.read()
    except httpx.TimeoutException as e:
        raise timeout_error(LABEL, TIMEOUT, e) from e
    except httpx.TransportError as e:
        raise RetryableError(f"connection failed: {type(e).__name__}") from e
    try:
        return json.loads(body_bytes)
    except ValueError as e:
        said = clip(body_bytes[:200].decode("utf-8", "replace"), key)
        raise InvalidOutputError(f"{LABEL} answered with something that is not JSON: {said}") from e


def _result_url(answer: Any) -> str:
    image = answer.get("image") if isinstance(answer, dict) else None
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str) or not url:
        raise InvalidOutputError(f"{LABEL} answered without an image. Try again.")
    return url


def _fetch_result(client: httpx.Client, url: str, *, limit: int) -> bytes:
    if url.startswith("data:"):
        header, _, encoded = url.partition(",")
        if ";base64" not in header:
            raise InvalidOutputError(f"{LABEL} sent an image in a form we cannot read.")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as e:
            raise InvalidOutputError(f"{LABEL} sent an image that is not valid base64.") from e
    if not url.startswith(("https://", "http://")):
        raise InvalidOutputError(f"{LABEL} sent a result link we cannot fetch.")
    try:
        # A plain GET: the result lives on Fal's CDN, which must never see our key.
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise ProviderError(
                    f"{LABEL} made the image but it could not be downloaded "
                    f"(HTTP {response.status_code}). Try again."
                )
            data = _read_limited(response, limit + 1)
    except httpx.TimeoutException as e:
        raise timeout_error(LABEL, TIMEOUT, e) from e
    except httpx.TransportError as e:
        raise ProviderUnavailableError(
            f"{LABEL} made the image but the download failed ({type(e).__name__}). Try again."
        ) from e
    if len(data) > limit:
        raise InvalidOutputError(f"{LABEL} sent a result larger than the upload limit.")
    return data


def _read_limited(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _data_url(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1)  # fast; the bytes only cross the wire once
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _as_alpha_of(image: Image.Image, data: bytes, *, max_pixels: int) -> Image.Image:
    try:
        result = decode(read_header(data, max_pixels=max_pixels)).image
    except UserFacingError as e:  # the provider sent something that is not a usable image
        raise InvalidOutputError(f"{LABEL} sent back a result that is not a readable image.") from e
    if result.mode not in ("RGBA", "LA"):
        raise InvalidOutputError(f"{LABEL} sent back an image without transparency.")
    alpha = result.getchannel("A")
    if alpha.size != image.size:
        alpha = alpha.resize(image.size, Image.Resampling.BILINEAR)
    rgba = image.convert("RGBA")
    rgba.putalpha(alpha)
    return rgba

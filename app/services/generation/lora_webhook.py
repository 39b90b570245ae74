"""Fal's webhook: verify its ED25519 signature, then apply the training's outcome.

Fal signs each delivery with one of the keys it publishes as a JWKS (FAL_JWKS_URL). Headers:

    X-Fal-Webhook-Request-Id   X-Fal-Webhook-User-Id   X-Fal-Webhook-Timestamp (Unix seconds)
    X-Fal-Webhook-Signature    hex of the ED25519 signature of
                               "{request_id}\n{user_id}\n{timestamp}\n{sha256(body) as hex}"

A timestamp more than five minutes from our clock is refused (replays). The keys are cached
for a day; a signature no cached key accepts makes one early refresh (Fal rotated its keys),
at most every few minutes, so forged requests can't make us hammer Fal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from app.services.core.errors import WebhookSignatureError
from app.services.core.http import shared_client
from app.services.core.logs import get_logger
from app.services.core.models import LoraTraining
from app.services.generation.lora_fal import Outcome, read_output
from app.services.generation.lora_progress import apply_outcome
from app.services.generation.lora_records import ACTIVE
from app.settings import Settings

log = get_logger("lora")

TOLERANCE_SECONDS = 300
KEYS_TTL_SECONDS = 24 * 3600
MIN_REFRESH_SECONDS = 300
JWKS_TIMEOUT = httpx.Timeout(10.0)
HEADERS = ("x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp",
           "x-fal-webhook-signature")  # fmt: skip


@dataclass
class _Keys:
    keys: list[Ed25519PublicKey]
    fetched_at: float


_cache: dict[str, _Keys] = {}
_cache_lock = threading.Lock()


async def verify(
    settings: Settings, *, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> str:
    """Check a delivery's signature; return Fal's request id. WebhookSignatureError if the
    signature is missing, malformed, forged, or too old."""
    lower = {k.lower(): v for k, v in headers.items()}
    request_id, user_id, timestamp, signature = (lower.get(name, "").strip() for name in HEADERS)
    if not (request_id and timestamp and signature):
        raise WebhookSignatureError("The webhook is not signed.")
    try:
        sent_at = int(timestamp)
        raw = bytes.fromhex(signature)
    except ValueError as e:
        raise WebhookSignatureError("The webhook's signature headers are malformed.") from e
    if abs((time.time() if now is None else now) - sent_at) > TOLERANCE_SECONDS:
        raise WebhookSignatureError("The webhook's timestamp is too old (or in the future).")
    digest = hashlib.sha256(body).hexdigest()
    message = "\n".join([request_id, user_id, timestamp, digest]).encode()
    for fresh in (False, True):
        keys = await _public_keys(settings, refresh=fresh)
        if any(_valid(key, raw, message) for key in keys):
            return request_id
    raise WebhookSignatureError("The webhook's signature does not match Fal's keys.")


def apply_webhook(session: Session, *, request_id: str, body: bytes) -> bool:
    """Apply a verified delivery to the training it is about. False when no training waits on
    that request (another endpoint's, or already finished: a retried delivery)."""
    training = session.exec(
        select(LoraTraining).where(col(LoraTraining.fal_request_id) == request_id)
    ).first()
    if training is None or training.id is None or training.status not in ACTIVE:
        return False
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    status = event.get("status") if isinstance(event, dict) else None
    if status == "OK":
        outcome = read_output(event.get("payload") if isinstance(event, dict) else None)
    elif status == "ERROR":
        detail = str(event.get("error") or "") if isinstance(event, dict) else ""
        outcome = Outcome(
            "failed", error=f"Fal.ai could not train this LoRA: {detail[:300] or 'no reason'}"
        )
    else:
        log.warning("fal webhook for %s with status %r ignored", request_id, status)
        return False
    return apply_outcome(session, training.id, outcome)


async def _public_keys(settings: Settings, *, refresh: bool) -> list[Ed25519PublicKey]:
    url = settings.fal_jwks_url
    with _cache_lock:
        held = _cache.get(url)
    age = time.monotonic() - held.fetched_at if held else None
    if held is not None and age is not None:
        if not refresh and age < KEYS_TTL_SECONDS:
            return held.keys
        if refresh and age < MIN_REFRESH_SECONDS:
            return []  # the cached keys were just tried
    try:
        http = await shared_client()
        answer = await http.get(url, timeout=JWKS_TIMEOUT)
        answer.raise_for_status()
        keys = _parse_jwks(answer.json())
    except (httpx.HTTPError, ValueError) as e:
        log.warning("could not fetch Fal's webhook keys from %s: %s", url, e)
        return held.keys if held is not None and not refresh else []
    with _cache_lock:
        _cache[url] = _Keys(keys, time.monotonic())
    return keys


def _parse_jwks(document: object) -> list[Ed25519PublicKey]:
    entries = document.get("keys") if isinstance(document, dict) else None
    keys = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("crv") != "Ed25519":
            continue
        x = entry.get("x")
        if not isinstance(x, str):
            continue
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            keys.append(Ed25519PublicKey.from_public_bytes(raw))
        except (ValueError, binascii.Error):
            continue
    return keys


def _valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def forget_keys() -> None:
    """Drop the cached keys (tests that rotate the fake's keys)."""
    with _cache_lock:
        _cache.clear()

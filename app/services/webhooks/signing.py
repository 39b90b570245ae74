"""Secrets and signatures per the Standard Webhooks specification, with its official library.

A secret is "whsec_" + base64 of 32 random bytes. A delivery is signed with every secret that
is live (after a rotation, the previous one too until it expires): the spec lets the
`webhook-signature` header carry several signatures separated by spaces, and a receiver
accepts the message when any of them verifies, so it can switch secrets without missing one.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    *, message_id: str, body: str, when: datetime, secrets_: Iterable[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt of `message_id`."""
    signatures = [Webhook(secret).sign(message_id, when, body) for secret in secrets_]
    if not signatures:
        raise ValueError("a delivery needs at least one secret to be signed with")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }

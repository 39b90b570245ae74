"""Secrets kept at rest (a project's bucket keys, webhook signing secrets), encrypted with Fernet.

The Fernet key is derived from SECRET_KEY with HKDF, so there is no second key to manage, and a
leaked database alone reveals nothing. Changing SECRET_KEY makes the stored secrets unreadable:
`open_secret` then raises ConfigurationError rather than returning garbage.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.services.core.errors import ConfigurationError
from app.settings import get_settings

_INFO = b"jsoncraft secret box v1"


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


def _box() -> Fernet:
    return _fernet(get_settings().secret_key.get_secret_value())


def seal_secret(plain: str) -> str:
    """An opaque token for `plain`, safe to store."""
    return _box().encrypt(plain.encode()).decode()


def open_secret(token: str) -> str:
    """The plain text sealed in `token`."""
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ConfigurationError(
            "A stored secret cannot be decrypted: was SECRET_KEY changed since it was saved?"
        ) from exc

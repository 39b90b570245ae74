"""Unsubscribe tokens: which user switches off which kind of email, signed so nobody can forge one.

A token is a JWT (HS256, via joserfc) with a key derived from SECRET_KEY for this one purpose.
It names the user and the kind and never expires: an unsubscribe link in a years-old email
must still work (RFC 8058 asks for exactly that). It grants nothing but switching that one
kind off (and back on) for that one user, so it needs no expiry to be safe.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from app.services.core.errors import InvalidInputError
from app.services.notify.kinds import KINDS
from app.settings import get_settings

_AUDIENCE = "jsoncraft/unsubscribe"
MAX_TOKEN_LENGTH = 1000
INVALID_TOKEN = (
    "This unsubscribe link is not valid: it may have been cut short or changed. "
    "Sign in and choose your emails on your account page instead."
)


class InvalidUnsubscribeTokenError(InvalidInputError):
    """A missing, malformed or forged unsubscribe token."""

    status_code = 400

    def __init__(self) -> None:
        super().__init__(INVALID_TOKEN)


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    kind: str


def _signing_key() -> OctKey:
    secret = get_settings().secret_key.get_secret_value().encode()
    derived = hmac.new(secret, b"jsoncraft/unsubscribe/v1", hashlib.sha256).digest()
    return OctKey.import_key(derived)


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    claims = {"sub": str(int(user_id)), "kind": kind, "aud": _AUDIENCE}
    return jwt.encode({"alg": "HS256"}, claims, _signing_key(), algorithms=["HS256"])


def read_unsubscribe_token(token: str | None) -> Unsubscribe:
    """The user and kind a token names; InvalidUnsubscribeTokenError when it is not ours."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidUnsubscribeTokenError()
    try:
        decoded = jwt.decode(token.strip(), _signing_key(), algorithms=["HS256"])
        JWTClaimsRegistry(
            aud={"essential": True, "value": _AUDIENCE},
            sub={"essential": True},
            kind={"essential": True},
        ).validate(decoded.claims)
        user_id = int(decoded.claims["sub"])
        kind = str(decoded.claims["kind"])
    except (JoseError, KeyError, TypeError, ValueError) as e:
        raise InvalidUnsubscribeTokenError() from e
    if kind not in KINDS or user_id <= 0:
        raise InvalidUnsubscribeTokenError()
    return Unsubscribe(user_id=user_id, kind=kind)

"""Short-lived client tokens: what a customer's server hands a browser instead of its secret key.

A token is `jct_` + a JWT (HS256, via joserfc, authlib's JOSE library) naming the key that minted
it and the key's project. It is signed with a key derived from SECRET_KEY for this one purpose,
and carries no secret: the secret key never leaves the customer's server. A token only ever
acts with the `upload` scope, and only while the key that minted it is still live (revoking or
rotating the key kills its tokens at once).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry
from sqlmodel import Session

from app.services.accounts.api_keys import KeyAuth, parse_scopes
from app.services.core.errors import AuthenticationError, PermissionDeniedError
from app.services.core.models import ApiKey, Project, User, utcnow
from app.settings import get_settings

PREFIX = "jct_"
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 3600
DEFAULT_EXPIRES_IN = 600
_AUDIENCE = "jsoncraft/uploads"
_REFUSED = "This client token is invalid or has expired. Ask your server for a new one."


@dataclass(frozen=True)
class ClientToken:
    token: str
    expires_at: datetime


def _signing_key() -> OctKey:
    secret = get_settings().secret_key.get_secret_value().encode()
    derived = hmac.new(secret, b"jsoncraft/client-token/v1", hashlib.sha256).digest()
    return OctKey.import_key(derived)


def mint_client_token(
    auth: KeyAuth, *, expires_in: int = DEFAULT_EXPIRES_IN, now: datetime | None = None
) -> ClientToken:
    """A token for browsers, for `auth`'s project, valid `expires_in` seconds (60..3600)
    from `now` (the current time by default)."""
    if "upload" not in auth.scopes:
        raise PermissionDeniedError("This key lacks the 'upload' scope.")
    expires_in = max(MIN_EXPIRES_IN, min(MAX_EXPIRES_IN, expires_in))
    now = (now or utcnow()).replace(microsecond=0)
    expires_at = now + timedelta(seconds=expires_in)
    claims = {
        "sub": str(auth.key_id),
        "pid": auth.project_id,
        "aud": _AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    token = jwt.encode({"alg": "HS256"}, claims, _signing_key(), algorithms=["HS256"])
    return ClientToken(token=PREFIX + token, expires_at=expires_at)


def authenticate_client_token(session: Session, token: str | None) -> KeyAuth:
    """The project a client token uploads to (scope `upload` only), if it and its key are live.

    AuthenticationError (401) otherwise: forged, expired, or its key revoked."""
    if not token or not token.startswith(PREFIX) or len(token) > 2000:
        raise AuthenticationError(_REFUSED)
    try:
        decoded = jwt.decode(token[len(PREFIX) :], _signing_key(), algorithms=["HS256"])
        JWTClaimsRegistry(
            exp={"essential": True},
            aud={"essential": True, "value": _AUDIENCE},
            sub={"essential": True},
        ).validate(decoded.claims)
        key_id = int(decoded.claims["sub"])
        project_id = int(decoded.claims["pid"])
    except (JoseError, KeyError, TypeError, ValueError) as e:
        raise AuthenticationError(_REFUSED) from e
    row = session.get(ApiKey, key_id)
    now = utcnow()
    project = session.get(Project, project_id)
    owner = session.get(User, project.owner_id) if project is not None else None
    live = (
        row is not None
        and row.project_id == project_id
        and row.revoked_at is None
        and (row.expires_at is None or row.expires_at > now)
        and "upload" in parse_scopes(row.scopes)
        and owner is not None
        and owner.is_active
    )
    if not live:
        raise AuthenticationError(_REFUSED)
    return KeyAuth(project_id=project_id, key_id=key_id, scopes=frozenset({"upload"}))

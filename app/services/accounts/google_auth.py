"""Sign in with Google: the OpenID Connect authorization code flow with state, nonce and PKCE.

    start_sign_in()       authorization URL + a sealed cookie value (state, nonce, PKCE verifier,
                          where to go afterwards); nothing is kept in server memory
    finish_sign_in()      checks the cookie and `state`, refuses a replayed callback, exchanges the
                          code, validates the ID token (JWKS signature, iss, aud, exp, nonce) and
                          requires a verified email
    sign_in_with_google() the account with that Google subject; else the account with that
                          verified email, now linked; else a new account without a password

Every refusal is a GoogleSignInError with a short `code` for `/login?error=<code>`.
The provider's discovery document and keys are cached for an hour; the keys are fetched again
early when a token names a key we don't know (Google rotates them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session, select

from app.services.accounts.auth import SignedIn, create_user, normalize_email, open_session
from app.services.accounts.signup import grant_signup_credits
from app.services.core import rate_limits
from app.services.core.errors import AuthenticationError, ConflictError, InvalidInputError
from app.services.core.models import User
from app.settings import Settings

CALLBACK_PATH = "/api/auth/google/callback"
SCOPE = "openid email profile"
ID_TOKEN_ALGORITHMS = ["RS256"]
STATE_TTL_SECONDS = 600
DISCOVERY_TTL_SECONDS = 3600
JWKS_MIN_REFRESH_SECONDS = 60
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

ERROR_MESSAGES: dict[str, str] = {
    "disabled": "Google sign-in is not available here. Sign in with your email and password.",
    "denied": "Google sign-in was cancelled.",
    "state": "That sign-in link is not valid. Start again from the sign-in page.",
    "expired": "That sign-in took too long. Start again from the sign-in page.",
    "replayed": "That sign-in link was already used. Start again from the sign-in page.",
    "unavailable": "We couldn't reach Google. Try again in a minute.",
    "exchange": "Google didn't confirm the sign-in. Start again from the sign-in page.",
    "id_token": "Google's answer could not be verified. Start again from the sign-in page.",
    "nonce": "Google's answer didn't match this sign-in. Start again from the sign-in page.",
    "email_unverified": "Your Google account's email address is not verified yet.",
    "account_conflict": "That email belongs to an account linked to a different Google account.",
    "account_disabled": "This account is disabled.",
    "too_many_attempts": "Too many sign-in attempts. Wait a minute and try again.",
    "unexpected": "Something went wrong on our side. Try again.",
}


class GoogleSignInError(AuthenticationError):
    """A refused Google sign-in; `code` goes in the login URL, `detail` only to the log."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(ERROR_MESSAGES.get(code, ERROR_MESSAGES["unexpected"]))
        self.code = code
        self.detail = detail


def error_message(code: str | None) -> str:
    """The sentence the login page shows for `?error=<code>` ("" when there is none)."""
    if not code:
        return ""
    return ERROR_MESSAGES.get(code, ERROR_MESSAGES["unexpected"])


def google_enabled(settings: Settings) -> bool:
    return bool(settings.google_client_id)


def callback_url(settings: Settings) -> str:
    """Registered with Google as the authorized redirect URI."""
    return f"{settings.api_url.rstrip('/')}{CALLBACK_PATH}"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class PendingSignIn:
    """What the callback must match, sealed into a short-lived cookie."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str
    issued_at: int


@dataclass(frozen=True)
class GoogleIdentity:
    sub: str
    email: str
    name: str
    next_path: str


# -- provider metadata and keys, cached per URL -------------------------------------------------

_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_keys_cache: dict[str, tuple[float, KeySet]] = {}


def clear_caches() -> None:
    _metadata_cache.clear()
    _keys_cache.clear()


def _new_client() -> httpx.AsyncClient:
    # Per sign-in rather than shared: sign-ins are rare, and a pooled client is bound to the
    # event loop that opened its connections.
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise GoogleSignInError("unavailable", f"GET {url}: {e}") from e
    if not isinstance(data, dict):
        raise GoogleSignInError("unavailable", f"GET {url}: not a JSON object")
    return data


async def provider_metadata(settings: Settings, client: httpx.AsyncClient) -> ProviderMetadata:
    url = settings.google_discovery_url
    cached = _metadata_cache.get(url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    doc = await _get_json(client, url)
    try:
        metadata = ProviderMetadata(
            issuer=str(doc["issuer"]),
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
        )
    except KeyError as e:
        raise GoogleSignInError("unavailable", f"discovery document lacks {e}") from e
    _metadata_cache[url] = (time.monotonic(), metadata)
    return metadata


async def _key_set(client: httpx.AsyncClient, jwks_uri: str, *, refresh: bool = False) -> KeySet:
    cached = _keys_cache.get(jwks_uri)
    age = time.monotonic() - cached[0] if cached else None
    if cached and age is not None:
        fresh = age < DISCOVERY_TTL_SECONDS
        # A forged `kid` must not make us fetch the keys on every request.
        if fresh and (not refresh or age < JWKS_MIN_REFRESH_SECONDS):
            return cached[1]
    try:
        keys = KeySet.import_key_set(await _get_json(client, jwks_uri))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as e:
        raise GoogleSignInError("unavailable", f"bad JWKS at {jwks_uri}: {e}") from e
    _keys_cache[jwks_uri] = (time.monotonic(), keys)
    return keys


# -- the sealed state cookie ---------------------------------------------------------------------


def _seal_key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"jsoncraft/google-sign-in/v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(pending: PendingSignIn, settings: Settings) -> str:
    body = _b64(json.dumps(asdict(pending), separators=(",", ":")).encode())
    mac = hmac.new(_seal_key(settings), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unseal(value: str | None, settings: Settings, *, now: float | None = None) -> PendingSignIn:
    if not value or value.count(".") != 1 or len(value) > 4096:
        raise GoogleSignInError("state", "missing or malformed state cookie")
    body, mac = value.split(".")
    expected = hmac.new(_seal_key(settings), body.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(_unb64(mac), expected)
        pending = PendingSignIn(**json.loads(_unb64(body))) if valid else None
    except (ValueError, TypeError) as e:
        raise GoogleSignInError("state", "unreadable state cookie") from e
    if pending is None:
        raise GoogleSignInError("state", "state cookie signature mismatch")
    if (now if now is not None else time.time()) - pending.issued_at > STATE_TTL_SECONDS:
        raise GoogleSignInError("expired", "state cookie older than the time limit")
    return pending


# -- the flow -------------------------------------------------------------------------------------


async def start_sign_in(*, settings: Settings, next_path: str) -> tuple[str, str]:
    """The provider's authorization URL and the sealed cookie value to set with it."""
    if not google_enabled(settings):
        raise GoogleSignInError("disabled")
    pending = PendingSignIn(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),  # 86 characters: within RFC 7636's 43..128
        next_path=next_path,
        issued_at=int(time.time()),
    )
    async with _new_client() as client:
        metadata = await provider_metadata(settings, client)
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id=settings.google_client_id,
        response_type="code",
        redirect_uri=callback_url(settings),
        scope=SCOPE,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    return str(url), seal(pending, settings)


async def finish_sign_in(
    *, settings: Settings, cookie: str | None, params: Mapping[str, str]
) -> GoogleIdentity:
    """Check the callback's query parameters against the cookie and return who signed in."""
    if not google_enabled(settings):
        raise GoogleSignInError("disabled")
    if params.get("error"):
        raise GoogleSignInError("denied", f"provider error {params.get('error')!r}")
    pending = unseal(cookie, settings)
    if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
        raise GoogleSignInError("state", "state parameter does not match the cookie")
    if not rate_limits.first_use("google-state", pending.state, within_seconds=STATE_TTL_SECONDS):
        raise GoogleSignInError("replayed", "state already used")
    code = params.get("code", "")
    if not code:
        raise GoogleSignInError("exchange", "callback without a code")
    async with _new_client() as client:
        metadata = await provider_metadata(settings, client)
        token = await _exchange_code(
            client, settings, metadata.token_endpoint, code, pending.code_verifier
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise GoogleSignInError("id_token", "token response without an id_token")
        keys = await _key_set(client, metadata.jwks_uri)
        try:
            claims = validate_id_token(
                id_token, keys=keys, settings=settings, issuer=metadata.issuer, nonce=pending.nonce
            )
        except GoogleSignInError as e:
            if not isinstance(e.__cause__, InvalidKeyIdError):
                raise
            keys = await _key_set(client, metadata.jwks_uri, refresh=True)
            claims = validate_id_token(
                id_token, keys=keys, settings=settings, issuer=metadata.issuer, nonce=pending.nonce
            )
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise GoogleSignInError("email_unverified", "no email claim")
    if claims.get("email_verified") not in (True, "true"):
        raise GoogleSignInError("email_unverified", "email_verified is not true")
    name = claims.get("name")
    return GoogleIdentity(
        sub=str(claims["sub"]),
        email=email,
        name=name if isinstance(name, str) else "",
        next_path=pending.next_path,
    )


async def _exchange_code(
    client: httpx.AsyncClient, settings: Settings, endpoint: str, code: str, verifier: str
) -> dict[str, Any]:
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=callback_url(settings),
        code_verifier=verifier,
    )
    secret = settings.google_client_secret
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    _, headers, body = ClientAuth(
        settings.google_client_id,
        secret.get_secret_value() if secret else None,
        "client_secret_basic" if secret else "none",
    ).prepare("POST", endpoint, headers, body)
    try:
        response = await client.post(endpoint, content=body, headers=headers)
        data = response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise GoogleSignInError("exchange", f"token endpoint: {e}") from e
    if response.status_code != 200 or not isinstance(data, dict) or "error" in data:
        error = data.get("error") if isinstance(data, dict) else None
        raise GoogleSignInError("exchange", f"token endpoint {response.status_code}: {error}")
    return data


def _issuers(issuer: str) -> list[str]:
    # Google documents both spellings for the `iss` of its ID tokens.
    if issuer == "https://accounts.google.com":
        return [issuer, "accounts.google.com"]
    return [issuer]


def validate_id_token(
    id_token: str,
    *,
    keys: KeySet,
    settings: Settings,
    issuer: str,
    nonce: str,
    now: int | None = None,
) -> dict[str, Any]:
    """The ID token's claims, once its signature, iss, aud, azp, exp, iat and nonce hold."""
    client_id = settings.google_client_id or ""
    try:
        decoded = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "values": _issuers(issuer)},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as e:
        raise GoogleSignInError("id_token", f"{type(e).__name__}: {e}") from e
    claims = dict(decoded.claims)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise GoogleSignInError("id_token", "several audiences and azp is not our client")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(
        token_nonce.encode(), nonce.encode()
    ):
        raise GoogleSignInError("nonce", "nonce claim does not match the cookie")
    return claims


def sign_in_with_google(
    session: Session, *, identity: GoogleIdentity, user_agent: str = ""
) -> SignedIn:
    """Find, link or create the account and open a new session. The caller commits; a new
    account is committed here, to get its plan's credits (see signup.py)."""
    created = False
    user = session.exec(select(User).where(User.google_sub == identity.sub)).first()
    if user is None:
        try:
            email = normalize_email(identity.email)
        except InvalidInputError as e:
            raise GoogleSignInError("email_unverified", "unusable email address") from e
        user = session.exec(select(User).where(User.email == email)).first()
        if user is not None and user.google_sub and user.google_sub != identity.sub:
            raise GoogleSignInError("account_conflict", f"user {user.id} has another google_sub")
        if user is None:
            try:
                user = create_user(session, email=email, password=None, display_name=identity.name)
            except ConflictError as e:  # the same email signed up a moment ago
                raise GoogleSignInError("account_conflict", "concurrent sign-up") from e
            created = True
        user.google_sub = identity.sub
        session.add(user)
    if not user.is_active:
        raise GoogleSignInError("account_disabled", f"user {user.id} is disabled")
    signed = SignedIn(user=user, token=open_session(session, user=user, user_agent=user_agent))
    if created:
        grant_signup_credits(session, user=user)
    return signed

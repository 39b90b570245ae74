"""Google sign-in end to end against a real OpenID provider on loopback (oidc-provider-mock).

The browser is played by hand: our /start redirects to the provider's authorize endpoint,
the provider's form is submitted with httpx, and its redirect comes back to our /callback.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlmodel import Session, func, select

from app.api import create_api, oauth
from app.services.accounts import auth, google_auth
from app.services.accounts.google_auth import GoogleSignInError
from app.services.accounts.session_cookie import SESSION_COOKIE
from app.services.billing import credits, pricing
from app.services.core.models import User, UserSession
from app.settings import Settings, get_settings, reset_settings
from tests.utils.oidc import OidcProvider

pytestmark = pytest.mark.integration

CLIENT_ID = "jsoncraft-test-client"
APP_URL = "http://app.test"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def google(oidc_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[OidcProvider]:
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "test-client-secret")
    monkeypatch.setenv(
        "GOOGLE_DISCOVERY_URL", f"{oidc_provider.url}/.well-known/openid-configuration"
    )
    monkeypatch.setenv("API_URL", "http://testserver")
    monkeypatch.setenv("APP_URL", APP_URL)
    reset_settings()
    google_auth.clear_caches()
    oidc_provider.calls.clear()
    yield oidc_provider
    google_auth.clear_caches()


def _api() -> FastAPI:
    api = create_api()
    # Until app/api/main.py includes the router itself.
    if not any(getattr(r, "path", "") == "/api/auth/google/start" for r in api.routes):
        api.include_router(oauth.router)
    return api


def _test_client() -> TestClient:
    # Redirects are the answer under test, so they are not followed.
    return TestClient(_api(), raise_server_exceptions=False, follow_redirects=False)


@pytest.fixture
def client(db_url: str) -> TestClient:
    return _test_client()


def _start(client: TestClient, next_path: str = "/gallery") -> str:
    response = client.get("/api/auth/google/start", params={"next": next_path})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def _authorize(authorize_url: str, sub: str) -> str:
    """Submit the provider's consent form as the person would; returns our callback URL."""
    response = httpx.post(authorize_url, data={"sub": sub})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def _callback(client: TestClient, callback_url: str) -> httpx.Response:
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver"
    return client.get(f"{parts.path}?{parts.query}")


def _sign_in(client: TestClient, sub: str, next_path: str = "/gallery") -> httpx.Response:
    return _callback(client, _authorize(_start(client, next_path), sub))


def _error_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{APP_URL}/login"
    return parse_qs(location.query)["error"][0]


def _session_token(response: httpx.Response) -> str:
    token = response.cookies.get(SESSION_COOKIE)
    assert token, response.headers
    return token


def _count_sessions(session: Session) -> int:
    return session.exec(select(func.count()).select_from(UserSession)).one()


def test_a_new_user_is_created_and_signed_in(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-100", email="New@Example.com", email_verified=True, name="Nova")
    authorize_url = _start(client, "/gallery?tab=mine")
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{google.url}/oauth2/authorize?")
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/api/auth/google/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["state"][0] and query["nonce"][0]

    response = _callback(client, _authorize(authorize_url, "g-100"))

    assert response.status_code == 302, response.text
    assert response.headers["location"] == f"{APP_URL}/gallery?tab=mine"
    user = auth.user_for_token(session, _session_token(response))
    assert user is not None
    assert (user.email, user.google_sub, user.display_name) == ("new@example.com", "g-100", "Nova")
    assert user.password_hash is None
    # PKCE: the verifier sent to the token endpoint hashes to the challenge sent to authorize.
    [token_call] = google.params_of("/oauth2/token")
    digest = hashlib.sha256(token_call["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]
    assert token_call["redirect_uri"] == "http://testserver/api/auth/google/callback"


def test_the_session_cookie_flags(google: OidcProvider, client: TestClient) -> None:
    google.add_user("g-101", email="flags@example.com", email_verified=True)
    header = next(
        h
        for h in _sign_in(client, "g-101").headers.get_list("set-cookie")
        if h.startswith(f"{SESSION_COOKIE}=")
    )
    flags = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"path", "max-age", "samesite"} <= flags
    assert "httponly" in flags  # no page script can read it; the state reads it server-side
    assert "secure" not in flags  # APP_URL is http here
    assert f"max-age={get_settings().session_ttl_hours * 3600}" in header.lower()
    assert "samesite=lax" in header.lower()


def test_the_session_cookie_is_secure_on_https(
    google: OidcProvider, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_URL", "https://app.test")
    reset_settings()
    google.add_user("g-102", email="tls@example.com", email_verified=True)
    client = _test_client()
    start = client.get("/api/auth/google/start")
    assert "secure" in start.headers["set-cookie"].lower()
    # httpx keeps Secure cookies for https only, so hand the state cookie over.
    callback = _authorize(start.headers["location"], "g-102")
    response = client.get(
        callback.removeprefix("http://testserver"),
        cookies={oauth.STATE_COOKIE: start.cookies[oauth.STATE_COOKIE]},
    )
    assert response.headers["location"] == "https://app.test/"
    session_cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")
    )
    assert "secure" in session_cookie.lower()


def test_an_existing_password_account_is_linked_by_verified_email(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    existing = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    google.add_user("g-200", email="ada@example.com", email_verified=True)

    response = _sign_in(client, "g-200")

    user = auth.user_for_token(session, _session_token(response))
    assert user is not None and user.id == existing.id
    session.refresh(existing)
    assert existing.google_sub == "g-200"
    assert existing.password_hash  # the password still works
    assert auth.authenticate(session, email="ada@example.com", password=PASSWORD).user.id == user.id
    session.commit()
    # Next time the Google subject alone finds the account, even if the email changed there.
    google.add_user("g-200", email="ada.new@example.com", email_verified=True)
    again = auth.user_for_token(session, _session_token(_sign_in(client, "g-200")))
    assert again is not None and again.id == existing.id


def test_each_sign_in_gets_a_new_session_token(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-201", email="twice@example.com", email_verified=True)
    first = _session_token(_sign_in(client, "g-201"))
    second = _session_token(_sign_in(client, "g-201"))
    assert first != second
    assert session.exec(select(func.count()).select_from(User)).one() == 1


def test_a_new_google_account_gets_its_plan_credits_once(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-202", email="credits@example.com", email_verified=True)
    user = auth.user_for_token(session, _session_token(_sign_in(client, "g-202")))
    assert user is not None and user.id is not None
    free = pricing.PLANS["free"].monthly_credits
    assert credits.balance(session, user_id=user.id) == free
    _session_token(_sign_in(client, "g-202"))  # signing in again grants nothing more
    assert credits.balance(session, user_id=user.id) == free


def test_linking_an_existing_account_grants_nothing(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    existing = auth.create_user(session, email="linked@example.com", password=PASSWORD)
    session.commit()
    assert existing.id is not None
    google.add_user("g-203", email="linked@example.com", email_verified=True)
    _session_token(_sign_in(client, "g-203"))
    assert credits.balance(session, user_id=existing.id) == 0


@pytest.mark.parametrize("claims", [{"email_verified": False}, {}])
def test_an_unverified_email_is_refused(
    google: OidcProvider, client: TestClient, session: Session, claims: dict[str, object]
) -> None:
    auth.create_user(session, email="victim@example.com", password=PASSWORD)
    session.commit()
    google.add_user("g-300", email="victim@example.com", **claims)

    response = _sign_in(client, "g-300")

    assert _error_of(response) == "email_unverified"
    assert SESSION_COOKIE not in response.cookies
    assert session.exec(select(User).where(User.google_sub == "g-300")).first() is None
    assert _count_sessions(session) == 0


def test_an_email_linked_to_another_google_account_is_refused(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-400", email="shared@example.com", email_verified=True)
    _session_token(_sign_in(client, "g-400"))
    google.add_user("g-401", email="shared@example.com", email_verified=True)
    assert _error_of(_sign_in(client, "g-401")) == "account_conflict"


def test_a_disabled_account_is_refused(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    user = auth.create_user(session, email="gone@example.com", password=PASSWORD)
    user.is_active = False
    session.add(user)
    session.commit()
    google.add_user("g-402", email="gone@example.com", email_verified=True)
    assert _error_of(_sign_in(client, "g-402")) == "account_disabled"
    session.refresh(user)
    assert user.google_sub is None  # nothing was linked


def test_a_missing_or_wrong_state_is_refused(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-500", email="state@example.com", email_verified=True)
    callback = _authorize(_start(client), "g-500")
    parts = urlsplit(callback)
    query = dict(parse_qsl(parts.query))

    wrong = urlunsplit(parts._replace(query=urlencode({**query, "state": "forged"})))
    assert _error_of(_callback(client, wrong)) == "state"
    missing = urlunsplit(parts._replace(query=urlencode({"code": query["code"]})))
    assert _error_of(_callback(client, missing)) == "state"
    # The right state from a browser without our cookie (login CSRF) is refused too.
    fresh = _test_client()
    assert _error_of(_callback(fresh, callback)) == "state"
    assert _count_sessions(session) == 0


def test_a_forged_or_expired_state_cookie_is_refused(
    google: OidcProvider, client: TestClient, isolated_settings: Settings
) -> None:
    google.add_user("g-501", email="cookie@example.com", email_verified=True)
    callback = _authorize(_start(client), "g-501")
    sealed = client.cookies[oauth.STATE_COOKIE]
    pending = google_auth.unseal(sealed, get_settings())

    body, mac = sealed.split(".")
    forged = google_auth.PendingSignIn(**{**pending.__dict__, "next_path": "/admin"})
    forged_body = google_auth.seal(forged, get_settings()).split(".")[0]
    old = google_auth.PendingSignIn(
        **{**pending.__dict__, "issued_at": int(time.time()) - google_auth.STATE_TTL_SECONDS - 5}
    )
    for cookie, code in [
        (f"{forged_body}.{mac}", "state"),  # changed content, old signature
        (f"{body}.{mac[:-2]}AA", "state"),
        ("garbage", "state"),
        (google_auth.seal(old, get_settings()), "expired"),
    ]:
        client.cookies.clear()
        client.cookies.set(oauth.STATE_COOKIE, cookie)
        assert _error_of(_callback(client, callback)) == code


def test_a_replayed_callback_is_refused(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-600", email="replay@example.com", email_verified=True)
    callback = _authorize(_start(client), "g-600")
    sealed = client.cookies[oauth.STATE_COOKIE]

    assert _callback(client, callback).headers["location"] == f"{APP_URL}/gallery"
    # The success cleared the state cookie; an attacker who kept it replays both.
    client.cookies.clear()
    client.cookies.set(oauth.STATE_COOKIE, sealed)
    replay = _callback(client, callback)

    assert _error_of(replay) == "replayed"
    assert _count_sessions(session) == 1
    assert len(google.params_of("/oauth2/token")) == 1  # never reached the provider again


def test_a_nonce_mismatch_is_refused(
    google: OidcProvider, client: TestClient, session: Session
) -> None:
    google.add_user("g-700", email="nonce@example.com", email_verified=True)
    parts = urlsplit(_start(client))
    query = dict(parse_qsl(parts.query))
    swapped = urlunsplit(parts._replace(query=urlencode({**query, "nonce": "not-our-nonce"})))

    assert _error_of(_callback(client, _authorize(swapped, "g-700"))) == "nonce"
    assert _count_sessions(session) == 0


def test_the_person_cancelling_at_google(google: OidcProvider, client: TestClient) -> None:
    response = httpx.post(_start(client), data={"action": "deny"})
    assert _error_of(_callback(client, response.headers["location"])) == "denied"


def test_an_unsafe_next_path_goes_home(google: OidcProvider, client: TestClient) -> None:
    google.add_user("g-800", email="next@example.com", email_verified=True)
    response = _sign_in(client, "g-800", next_path="//evil.example/steal")
    assert response.headers["location"] == f"{APP_URL}/"


def test_an_unreachable_provider_is_a_clean_redirect(
    google: OidcProvider, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "GOOGLE_DISCOVERY_URL", "http://127.0.0.1:1/.well-known/openid-configuration"
    )
    reset_settings()
    client = _test_client()
    response = client.get("/api/auth/google/start")
    assert _error_of(response) == "unavailable"
    assert "Traceback" not in response.text


def test_sign_in_is_rate_limited_per_client(
    google: OidcProvider, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.core import rate_limits

    rate_limits.set_policy("google_sign_in", ip="2/minute")
    try:
        assert _start(client)
        assert _start(client)
        assert _error_of(client.get("/api/auth/google/start")) == "too_many_attempts"
    finally:
        rate_limits.reset_policies()


def test_disabled_without_a_client_id(
    db_url: str, isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_URL", APP_URL)
    reset_settings()
    assert not google_auth.google_enabled(get_settings())
    client = _test_client()
    assert _error_of(client.get("/api/auth/google/start")) == "disabled"
    assert _error_of(client.get("/api/auth/google/callback?code=x&state=y")) == "disabled"
    assert google_auth.error_message("disabled")


# -- the ID token checks on their own, with keys we control -------------------------------------


def _keys() -> tuple[RSAKey, KeySet]:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return key, KeySet([RSAKey.import_key(key.as_dict(private=False))])


def _token(key: RSAKey, **overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "https://issuer.test",
        "aud": CLIENT_ID,
        "sub": "s-1",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "email": "a@example.com",
        "email_verified": True,
    }
    claims.update(overrides)
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"iss": "https://other.test"}, "id_token"),
        ({"aud": "someone-else"}, "id_token"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "id_token"),
        ({"exp": int(time.time()) - 3600}, "id_token"),
        ({"nonce": "n-2"}, "nonce"),
    ],
)
def test_id_token_claims_are_checked(
    monkeypatch: pytest.MonkeyPatch, overrides: dict[str, object], code: str
) -> None:
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    reset_settings()
    key, public = _keys()
    with pytest.raises(GoogleSignInError) as caught:
        google_auth.validate_id_token(
            _token(key, **overrides),
            keys=public,
            settings=get_settings(),
            issuer="https://issuer.test",
            nonce="n-1",
        )
    assert caught.value.code == code


def test_id_token_signature_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    reset_settings()
    key, public = _keys()
    ok = google_auth.validate_id_token(
        _token(key), keys=public, settings=get_settings(), issuer="https://issuer.test", nonce="n-1"
    )
    assert ok["sub"] == "s-1"
    forger, _ = _keys()
    with pytest.raises(GoogleSignInError) as caught:
        google_auth.validate_id_token(
            _token(forger),
            keys=public,
            settings=get_settings(),
            issuer="https://issuer.test",
            nonce="n-1",
        )
    assert caught.value.code == "id_token"

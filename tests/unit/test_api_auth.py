"""The sign-in, sign-up and sign-out form endpoints: cookies, redirects and nasty input."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.api import create_api
from app.services.accounts import auth
from app.services.accounts.session_cookie import (
    LEGACY_SESSION_COOKIE,
    NOTICE_COOKIE,
    SESSION_COOKIE,
    Notice,
    open_notice,
)
from app.services.billing import credits, pricing
from app.services.core import rate_limits
from app.services.core.models import User, UserSession
from app.settings import get_settings, reset_settings

PASSWORD = "a long and happy passphrase"
APP = "http://localhost:3000"  # the default APP_URL: our pages post from there
OURS = {"Origin": APP}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    rate_limits.reset_counters()
    yield TestClient(create_api(), raise_server_exceptions=False, follow_redirects=False)
    rate_limits.reset_policies()
    rate_limits.reset_counters()


@pytest.fixture
def member(session: Session) -> User:
    user = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    return user


def _post(client: TestClient, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
    return client.post(f"/api/auth/{path}", data=data, headers={**OURS, **headers})


def _set_cookie(response: httpx.Response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))


def _flags(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")[1:]]
    return {k.lower(): v for k, _, v in (p.partition("=") for p in parts)}


def _notice(response: httpx.Response) -> Notice:
    assert response.status_code == 303, response.text
    notice = open_notice(response.cookies.get(NOTICE_COOKIE), get_settings())
    assert notice is not None
    assert SESSION_COOKIE not in response.cookies
    return notice


def _sessions(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(UserSession)).one()


def test_sign_up_sets_an_httponly_cookie_grants_credits_and_goes_next(
    client: TestClient, session: Session
) -> None:
    client.cookies.set(LEGACY_SESSION_COOKIE, "an-old-script-readable-token")
    response = _post(
        client,
        "sign-up",
        {
            "name": "Ada",
            "email": "Ada@Example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "next": "/gallery?tab=mine",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{APP}/gallery?tab=mine"
    flags = _flags(_set_cookie(response, SESSION_COOKIE))
    assert "httponly" in flags and "secure" not in flags
    assert flags["samesite"].lower() == "lax" and flags["path"] == "/"
    assert flags["max-age"] == str(get_settings().session_ttl_hours * 3600)
    assert "max-age=0" in _set_cookie(response, LEGACY_SESSION_COOKIE).lower()
    me = client.get("/api/me")  # the client keeps the cookie, as a browser does
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
    user = session.exec(select(User).where(User.email == "ada@example.com")).one()
    assert user.id is not None and user.display_name == "Ada"
    assert credits.balance(session, user_id=user.id) == pricing.PLANS["free"].monthly_credits


def test_the_session_cookie_is_secure_on_https(
    db_url: str, member: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_URL", "https://app.example")
    reset_settings()
    client = TestClient(create_api(), follow_redirects=False)
    response = client.post(
        "/api/auth/sign-in",
        data={"email": "ada@example.com", "password": PASSWORD},
        headers={"Origin": "https://app.example"},
    )
    assert response.headers["location"] == "https://app.example/"
    assert "secure" in _flags(_set_cookie(response, SESSION_COOKIE))


def test_sign_in_and_out(client: TestClient, member: User, session: Session) -> None:
    signed_in = _post(client, "sign-in", {"email": " ADA@example.com ", "password": PASSWORD})
    assert signed_in.headers["location"] == f"{APP}/"
    token = signed_in.cookies[SESSION_COOKIE]
    assert auth.user_for_token(session, token) is not None
    out = _post(client, "sign-out", {})
    assert out.status_code == 303 and out.headers["location"] == f"{APP}/login"
    assert "max-age=0" in _set_cookie(out, SESSION_COOKIE).lower()
    assert _notice(out).text == "You are signed out."
    assert auth.user_for_token(session, token) is None
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_sign_out_everywhere_ends_every_session_of_the_account(
    client: TestClient, member: User, session: Session
) -> None:
    other = auth.authenticate(session, email="ada@example.com", password=PASSWORD).token
    session.commit()
    _post(client, "sign-in", {"email": "ada@example.com", "password": PASSWORD})
    out = _post(client, "sign-out-everywhere", {})
    assert _notice(out).text == "Signed out of 2 sessions."
    assert auth.user_for_token(session, other) is None and _sessions(session) == 0


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "not the password at all"), ("nobody@example.com", PASSWORD)],
)
def test_wrong_password_and_unknown_email_get_the_same_message_and_keep_the_email(
    client: TestClient, member: User, session: Session, email: str, password: str
) -> None:
    response = _post(client, "sign-in", {"email": email, "password": password, "next": "/studio"})
    assert response.headers["location"] == f"{APP}/login?next=/studio"
    notice = _notice(response)
    assert (notice.page, notice.kind, notice.email) == ("/login", "error", email)
    assert notice.text == auth.WRONG_CREDENTIALS
    assert _sessions(session) == 0


@pytest.mark.parametrize(
    "data",
    [{}, {"email": "ada@example.com"}, {"password": PASSWORD}, {"email": " ", "password": "x"}],
)
def test_missing_fields_are_named(client: TestClient, member: User, data: dict[str, str]) -> None:
    assert _notice(_post(client, "sign-in", data)).text == "Enter your email and password."


def test_huge_and_malformed_forms_are_refused_with_a_message(
    client: TestClient, member: User, session: Session
) -> None:
    huge = _post(client, "sign-in", {"email": "a" * 20_000 + "@example.com", "password": "x"})
    assert "could not be read" in _notice(huge).text
    many = _post(client, "sign-in", {f"f{i}": "x" for i in range(50)})
    assert "could not be read" in _notice(many).text
    as_json = client.post(
        "/api/auth/sign-in", json={"email": "ada@example.com", "password": PASSWORD}, headers=OURS
    )
    assert "could not be read" in _notice(as_json).text
    bad_utf8 = client.post(
        "/api/auth/sign-in",
        content=b"email=%FF%FE&password=\xff",
        headers={**OURS, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bad_utf8.status_code == 303
    long_email = _post(client, "sign-in", {"email": "b" * 5000 + "@example.com", "password": "x"})
    assert _notice(long_email).text == auth.WRONG_CREDENTIALS
    assert len(long_email.cookies[NOTICE_COOKIE]) < 4096  # a browser would drop a larger cookie
    assert _sessions(session) == 0


@pytest.mark.parametrize(
    "next_path", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_next_never_leaves_the_app(client: TestClient, member: User, next_path: str) -> None:
    response = _post(
        client, "sign-in", {"email": "ada@example.com", "password": PASSWORD, "next": next_path}
    )
    assert response.headers["location"] == f"{APP}/"
    failed = _post(
        client, "sign-in", {"email": "ada@example.com", "password": "no", "next": next_path}
    )
    assert urlsplit(failed.headers["location"]).netloc == "localhost:3000"
    assert failed.headers["location"] == f"{APP}/login"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost:3000.evil.example"},
        {"Origin": "null", "Referer": "https://evil.example/page"},
        {"Origin": "", "Referer": ""},  # neither: a forged request, or not a browser
    ],
)
@pytest.mark.parametrize("path", ["sign-in", "sign-up", "sign-out", "sign-out-everywhere"])
def test_a_post_from_another_site_is_refused(
    client: TestClient, member: User, session: Session, headers: dict[str, str], path: str
) -> None:
    # Login CSRF: another site's form signing the visitor in to the attacker's account.
    # SameSite=Lax doesn't help there: the cookie is set by the response, not sent.
    data = {"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post(f"/api/auth/{path}", data=data, headers=headers)
    assert response.status_code == 403
    assert "another site" in response.json()["detail"]
    assert SESSION_COOKIE not in response.cookies and _sessions(session) == 0


def test_our_own_pages_pass_the_origin_check(client: TestClient, member: User) -> None:
    data = {"email": "ada@example.com", "password": PASSWORD}
    for headers in (
        {"Origin": "http://localhost:8000"},  # the API's own origin (dev mode: another port)
        {"Origin": "null", "Referer": f"{APP}/login?next=/"},  # privacy mode: Referer decides
    ):
        response = client.post("/api/auth/sign-in", data=data, headers=headers)
        assert response.status_code == 303 and SESSION_COOKIE in response.cookies


def test_sign_in_rate_limit_says_when_to_retry(client: TestClient, member: User) -> None:
    rate_limits.set_policy("sign_in", ip="2/minute", email="2/minute")
    for _ in range(2):
        _post(client, "sign-in", {"email": "ada@example.com", "password": "wrong one"})
    blocked = _post(client, "sign-in", {"email": "ada@example.com", "password": PASSWORD})
    notice = _notice(blocked)
    assert notice.text.startswith("Too many sign-in attempts. Try again in")
    assert notice.email == "ada@example.com"


def test_sign_up_rate_limit(client: TestClient) -> None:
    rate_limits.set_policy("sign_up", ip="1/minute")
    ok = _post(
        client, "sign-up", {"email": "a1@example.com", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert SESSION_COOKIE in ok.cookies
    data = {"name": "B", "email": "a2@example.com", "password": PASSWORD, "confirm": PASSWORD}
    notice = _notice(_post(client, "sign-up", data))
    assert notice.text.startswith("Too many new accounts from here.")
    assert (notice.email, notice.name) == ("a2@example.com", "B")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": PASSWORD, "confirm": PASSWORD + "x"}, "The two passwords don't match."),
        ({"password": "short", "confirm": "short"}, "Use at least"),
        ({"password": "password123", "confirm": "password123"}, "too easy to guess"),
        ({"password": "x" * 2000, "confirm": "x" * 2000}, "too long"),
        ({"email": "ada@example.com"}, "already exists"),
        ({"email": "not-an-email"}, "valid email"),
        ({"email": ""}, "valid email"),
    ],
)
def test_refused_sign_ups_keep_email_and_name(
    client: TestClient, member: User, session: Session, data: dict[str, str], message: str
) -> None:
    form = {
        "name": "Robin",
        "email": "robin@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    form.update(data)
    notice = _notice(_post(client, "sign-up", {**form, "next": "/credits"}))
    assert message in notice.text
    assert (notice.page, notice.email, notice.name) == ("/signup", form["email"], "Robin")
    session.expire_all()
    assert session.exec(select(func.count()).select_from(User)).one() == 1


def test_a_forged_or_stale_notice_is_ignored() -> None:
    from app.services.accounts.session_cookie import seal_notice

    settings = get_settings()
    sealed = seal_notice(Notice(page="/login", text="hello"), settings)
    assert open_notice(sealed, settings) is not None
    payload, _, signature = sealed.rpartition(".")
    assert open_notice(f"{payload}x.{signature}", settings) is None
    assert open_notice(f"{payload}.{'0' * len(signature)}", settings) is None
    assert open_notice("garbage", settings) is None
    notice = open_notice(sealed, settings)
    assert notice is not None
    assert open_notice(sealed, settings, now=notice.at + 3600) is None


def test_the_state_finds_the_token_in_a_messy_cookie_header() -> None:
    from app.services.accounts.session_cookie import read_cookie, token_from_cookie_header

    header = f'bad; =x; other="a;b"; {SESSION_COOKIE}=tok-123 ; {LEGACY_SESSION_COOKIE}=old'
    assert token_from_cookie_header(header) == "tok-123"
    assert token_from_cookie_header(f"{LEGACY_SESSION_COOKIE}=old") is None
    assert token_from_cookie_header(None) is None and token_from_cookie_header("") is None
    assert read_cookie(f"{SESSION_COOKIE}=", SESSION_COOKIE) is None

"""Rate limits: counting per scope and key, Retry-After, and HTTP 429 on /api/analyze."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import api_keys, auth
from app.services.core import rate_limits
from app.services.core.errors import TooManyAttemptsError
from app.services.demo.images import demo_catalog, render_demo_png
from app.settings import reset_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def default_policies() -> Iterator[None]:
    rate_limits.reset_policies()
    yield
    rate_limits.reset_policies()


def test_the_limit_is_enforced_with_a_sensible_retry_after() -> None:
    rate_limits.set_policy("analyze", user="3/minute", ip="100/minute")
    for _ in range(3):
        rate_limits.check("analyze", user=7, ip="10.0.0.1")
    with pytest.raises(TooManyAttemptsError) as caught:
        rate_limits.check("analyze", user=7, ip="10.0.0.1")
    assert 55 <= caught.value.retry_after <= 60
    assert caught.value.status_code == 429
    assert "Try again in 1 minute" in caught.value.message or "seconds" in caught.value.message


def test_the_longest_wait_of_several_limits_is_reported() -> None:
    rate_limits.set_policy("paid", user="1/minute;100/day")
    rate_limits.check("paid", user=1)
    with pytest.raises(TooManyAttemptsError) as caught:
        rate_limits.check("paid", user=1)
    assert caught.value.retry_after <= 60
    rate_limits.set_policy("paid", user="1/minute;1/hour")
    rate_limits.check("paid", user=2)
    with pytest.raises(TooManyAttemptsError) as longer:
        rate_limits.check("paid", user=2)
    assert 3500 < longer.value.retry_after <= 3600
    assert "60 minutes" in longer.value.message


def test_independent_keys_do_not_interfere() -> None:
    rate_limits.set_policy("sign_in", ip="2/minute", email="2/minute")
    rate_limits.check("sign_in", ip="1.1.1.1", email="ada@example.com")
    rate_limits.check("sign_in", ip="1.1.1.1", email="ada@example.com")
    with pytest.raises(TooManyAttemptsError):
        rate_limits.check("sign_in", email="ADA@example.com ")  # normalized: same email
    with pytest.raises(TooManyAttemptsError):
        rate_limits.check("sign_in", ip="1.1.1.1")
    # Another address and another email still have their whole allowance.
    rate_limits.check("sign_in", ip="2.2.2.2", email="bob@example.com")
    rate_limits.check("sign_in", ip="2.2.2.2", email="bob@example.com")
    # The same value under another policy or scope is a different counter.
    rate_limits.check("analyze", ip="1.1.1.1", user=1)
    rate_limits.set_policy("paid", user="2/minute")
    rate_limits.check("paid", user=1)
    rate_limits.check("paid", user=1)


def test_a_refused_request_does_not_use_up_the_other_scopes() -> None:
    rate_limits.set_policy("analyze", user="1/minute", ip="2/minute")
    rate_limits.check("analyze", user=1, ip="9.9.9.9")
    for _ in range(3):
        with pytest.raises(TooManyAttemptsError):
            rate_limits.check("analyze", user=1, ip="9.9.9.9")
    # The address was charged once, by the request that passed.
    rate_limits.check("analyze", user=2, ip="9.9.9.9")


def test_missing_keys_are_skipped() -> None:
    rate_limits.set_policy("analyze", user="1/minute", ip="1/minute")
    for _ in range(3):
        rate_limits.check("analyze", user=None, ip="")


def test_mistakes_in_policies_fail_loudly() -> None:
    with pytest.raises(ValueError, match="no rate limit policy"):
        rate_limits.check("nope", user=1)
    with pytest.raises(ValueError, match="no limit per"):
        rate_limits.check("paid", ip="1.2.3.4")
    with pytest.raises(ValueError, match="unknown rate limit scopes"):
        rate_limits.set_policy("paid", team="1/minute")
    with pytest.raises(ValueError):
        rate_limits.set_policy("paid", user="often")


def test_defaults_are_restored() -> None:
    rate_limits.set_policy("analyze", user="1/minute")
    rate_limits.reset_policies()
    assert rate_limits.policies()["analyze"].limits == {"user": "30/minute", "ip": "60/minute"}
    assert rate_limits.policies()["sign_in"].limits == {"ip": "10/minute", "email": "10/minute"}
    assert rate_limits.policies()["paid"].limits == {"user": "60/minute"}


def test_counters_start_afresh_with_new_settings() -> None:
    rate_limits.set_policy("paid", user="1/minute")
    rate_limits.check("paid", user=5)
    with pytest.raises(TooManyAttemptsError):
        rate_limits.check("paid", user=5)
    reset_settings()
    rate_limits.check("paid", user=5)
    rate_limits.reset_counters()
    rate_limits.check("paid", user=5)


def test_first_use_refuses_a_repeat() -> None:
    assert rate_limits.first_use("state", "abc", within_seconds=600)
    assert not rate_limits.first_use("state", "abc", within_seconds=600)
    assert rate_limits.first_use("state", "abd", within_seconds=600)
    assert rate_limits.first_use("other", "abc", within_seconds=600)


def test_acheck_for_async_handlers() -> None:
    rate_limits.set_policy("paid", user="1/minute")
    asyncio.run(rate_limits.acheck("paid", user=3))
    with pytest.raises(TooManyAttemptsError):
        asyncio.run(rate_limits.acheck("paid", user=3))


# -- the API ----------------------------------------------------------------------------------


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def _key(session: Session, email: str) -> str:
    user = auth.create_user(session, email=email, password=PASSWORD)
    key = api_keys.create_key(session, owner=user, name="test").key
    session.commit()
    return key


def _image() -> bytes:
    return render_demo_png(next(s for s in demo_catalog() if "sunset" in s.slug))


def test_analyze_answers_429_with_retry_after_per_user(
    client: TestClient, session: Session
) -> None:
    rate_limits.set_policy("analyze", user="1/minute", ip="100/minute")
    headers = {"Authorization": f"Bearer {_key(session, 'fast@example.com')}"}
    files = {"image": ("sunset.png", _image(), "image/png")}

    started = time.monotonic()
    assert client.post("/api/analyze", headers=headers, files=files).status_code == 200
    refused = client.post("/api/analyze", headers=headers, files=files)
    # The window opened with the first request: what is left of its minute, however long the
    # analysis took on a busy machine.
    elapsed = time.monotonic() - started

    assert refused.status_code == 429
    assert 60 - elapsed - 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Try again in" in refused.json()["detail"]
    other = {"Authorization": f"Bearer {_key(session, 'calm@example.com')}"}
    assert client.post("/api/analyze", headers=other, files=files).status_code == 200


def test_analyze_is_limited_per_client_address(client: TestClient, session: Session) -> None:
    rate_limits.set_policy("analyze", user="100/minute", ip="1/minute")
    not_an_image = {"image": ("a.png", b"not an image", "image/png")}
    first = {"Authorization": f"Bearer {_key(session, 'one@example.com')}"}
    second = {"Authorization": f"Bearer {_key(session, 'two@example.com')}"}

    # Counted before the upload is read: a bad upload still uses the allowance.
    assert client.post("/api/analyze", headers=first, files=not_an_image).status_code != 429
    refused = client.post("/api/analyze", headers=second, files=not_an_image)
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit()


def test_analyze_needs_a_user_before_counting(client: TestClient) -> None:
    rate_limits.set_policy("analyze", user="1/minute", ip="1/minute")
    for _ in range(3):
        response = client.post("/api/analyze", files={"image": ("a.png", b"x", "image/png")})
        assert response.status_code == 401

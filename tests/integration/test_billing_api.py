"""Billing over REST: the Stripe webhook (raw body, 400 on a bad signature), checkout, history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import billing as billing_api
from app.api import create_api
from app.services.accounts import auth
from app.services.billing import credits
from app.services.core.models import User
from app.settings import reset_settings
from tests.utils.fakes.stripe_server import FakeStripeServer, sign, signed

SECRET_KEY = "sk_test_jsoncraft_0123456789"
WEBHOOK_SECRET = "whsec_test_jsoncraft_secret"
WEBHOOK = "/api/stripe/webhook"


def make_app() -> FastAPI:
    api = create_api()
    # Until app/api/main.py includes the billing router, add it here (once).
    if not any(getattr(r, "path", "") == WEBHOOK for r in api.routes):
        api.include_router(billing_api.router)
    return api


@pytest.fixture
def stripe_api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripeServer]:
    with FakeStripeServer() as server:
        monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        monkeypatch.setenv("STRIPE_API_BASE", server.url)
        reset_settings()
        yield server


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


@pytest.fixture
def ada(session: Session) -> User:
    user = auth.create_user(session, email="ada@example.com", password=None)
    session.commit()
    return user


@pytest.fixture
def headers(session: Session, ada: User) -> dict[str, str]:
    token = auth.open_session(session, user=ada)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_checkout_then_webhook_adds_credits_once(
    client: TestClient,
    stripe_api: FakeStripeServer,
    session: Session,
    ada: User,
    headers: dict[str, str],
) -> None:
    assert client.get("/api/billing", headers=headers).json()["enabled"] is True
    started = client.post("/api/billing/checkout", json={"pack_id": "small"}, headers=headers)
    assert started.status_code == 200, started.text
    url = started.json()["url"]
    assert url.startswith(f"{stripe_api.url}/pay/")
    sent = [r for r in stripe_api.requests if r.path == "/v1/checkout/sessions"][0]
    assert sent.params["success_url"].startswith("http://localhost:3000/credits")

    body, header = signed(stripe_api.completed_event(url.rsplit("/", 1)[-1]), WEBHOOK_SECRET)
    for _ in range(2):  # Stripe redelivers; the second is acknowledged, not applied
        reply = client.post(
            WEBHOOK,
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"received": True}
    assert credits.balance(session, user_id=ada.id or 0) == 100

    history = client.get("/api/billing/history", headers=headers)
    assert history.status_code == 200
    assert [(p["kind"], p["status"], p["credits"]) for p in history.json()] == [
        ("purchase", "paid", 100)
    ]
    assert "stripe" not in history.text  # no Stripe ids leak to the browser


@pytest.mark.parametrize("kind", ["forged", "wrong_secret", "stale", "missing"])
def test_bad_signatures_are_400(
    client: TestClient, stripe_api: FakeStripeServer, kind: str
) -> None:
    body = b'{"id": "evt_1", "object": "event", "type": "customer.created", "data": {"object": {}}}'
    header = {
        "forged": "t=1,v1=" + "0" * 64,
        "wrong_secret": sign(body, "whsec_other"),
        "stale": sign(body, WEBHOOK_SECRET, timestamp=1_600_000_000),
        "missing": "",
    }[kind]
    reply = client.post(WEBHOOK, content=body, headers={"Stripe-Signature": header})
    assert reply.status_code == 400
    assert "signature" in reply.json()["detail"]


def test_checkout_needs_a_session_and_a_known_pack(
    client: TestClient, stripe_api: FakeStripeServer, headers: dict[str, str]
) -> None:
    assert client.post("/api/billing/checkout", json={"pack_id": "small"}).status_code == 401
    assert client.get("/api/billing/history").status_code == 401
    bad = client.post("/api/billing/checkout", json={"pack_id": "huge"}, headers=headers)
    assert bad.status_code == 422
    assert "small" in bad.text  # the allowed packs are listed in `errors`


def test_without_keys_purchases_are_off(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/api/billing", headers=headers).json()["enabled"] is False
    refused = client.post("/api/billing/checkout", json={"pack_id": "small"}, headers=headers)
    assert refused.status_code == 503
    assert "admin" in refused.json()["detail"]
    assert client.post(WEBHOOK, content=b"{}", headers={"Stripe-Signature": "x"}).status_code == 503

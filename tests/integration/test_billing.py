"""Stripe through the official SDK against a loopback fake, and webhooks signed as Stripe signs.

Credits only arrive through a verified webhook, each event is applied once, and a refund takes
back what it can without the balance going below zero.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.billing import billing, credits, pricing
from app.services.core.db import engine_for
from app.services.core.errors import BillingUnavailableError, WebhookSignatureError
from app.services.core.models import Payment, StripeEvent, StripeSubscription, User
from app.settings import Settings, get_settings, reset_settings
from tests.utils.fakes.stripe_server import FakeStripeServer, make_event, sign, signed
from tests.utils.outbox import emails, only_email

SECRET_KEY = "sk_test_jsoncraft_0123456789"
WEBHOOK_SECRET = "whsec_test_jsoncraft_secret"
SUCCESS = "http://localhost:3000/credits?checkout=success"
CANCEL = "http://localhost:3000/credits"


@pytest.fixture
def stripe_api() -> Iterator[FakeStripeServer]:
    with FakeStripeServer() as server:
        yield server


@pytest.fixture
def stripe_settings(
    stripe_api: FakeStripeServer, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_api.url)
    reset_settings()
    return get_settings()


@pytest.fixture
def ada(session: Session) -> User:
    user = auth.create_user(session, email="ada@example.com", password=None)
    session.commit()
    return user


def uid(user: User) -> int:
    assert user.id is not None
    return user.id


def deliver(session: Session, event: dict[str, Any], **kwargs: Any) -> str:
    body, header = signed(event, WEBHOOK_SECRET, **kwargs)
    return billing.handle_webhook(session, payload=body, signature_header=header)


def buy(session: Session, stripe_api: FakeStripeServer, user: User, pack: str = "small") -> str:
    """Check out through the SDK and pay on the fake; returns the Checkout Session id."""
    url = billing.create_checkout_session(
        session, user=user, pack_id=pack, success_url=SUCCESS, cancel_url=CANCEL
    )
    session.commit()
    return url.rsplit("/", 1)[-1]


def pay(session: Session, stripe_api: FakeStripeServer, user: User, pack: str = "small") -> str:
    checkout_id = buy(session, stripe_api, user, pack)
    assert deliver(session, stripe_api.completed_event(checkout_id)) == "applied"
    return checkout_id


# -- configuration -----------------------------------------------------------------------------


def test_billing_is_off_without_keys(session: Session, ada: User) -> None:
    assert not billing.billing_enabled(get_settings())
    with pytest.raises(BillingUnavailableError, match="Ask an admin"):
        billing.create_checkout_session(
            session, user=ada, pack_id="small", success_url=SUCCESS, cancel_url=CANCEL
        )
    with pytest.raises(BillingUnavailableError):
        billing.handle_webhook(session, payload=b"{}", signature_header="t=1,v1=00")


def test_billing_needs_both_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    reset_settings()
    assert not billing.billing_enabled(get_settings())
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    reset_settings()
    assert billing.billing_enabled(get_settings())


# -- checkout ----------------------------------------------------------------------------------


def test_checkout_goes_through_the_sdk_and_reuses_the_customer(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    url = billing.create_checkout_session(
        session, user=ada, pack_id="medium", success_url=SUCCESS, cancel_url=CANCEL
    )
    session.commit()
    assert url.startswith(f"{stripe_api.url}/pay/cs_test_")
    created = [r for r in stripe_api.requests if r.path == "/v1/checkout/sessions"]
    assert len(created) == 1
    sent = created[0]
    assert sent.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.params["mode"] == "payment"
    assert sent.params["metadata"] == {
        "user_id": str(uid(ada)),
        "credits": "500",
        "pack_id": "medium",
    }
    assert sent.params["line_items"][0]["price_data"]["unit_amount"] == "2000"
    assert sent.params["customer"] == ada.stripe_customer_id
    assert ada.stripe_customer_id in stripe_api.customers

    billing.create_checkout_session(
        session, user=ada, pack_id="small", success_url=SUCCESS, cancel_url=CANCEL
    )
    session.commit()
    assert len(stripe_api.customers) == 1
    pending = billing.billing_history(session, user_id=uid(ada))
    assert [(p.credits, p.status) for p in pending] == [(100, "pending"), (500, "pending")]
    # No credits until Stripe says the money arrived.
    assert credits.balance(session, user_id=uid(ada)) == 0


def test_checkout_refuses_unknown_packs_and_urls(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    from app.services.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="small"):
        billing.create_checkout_session(
            session, user=ada, pack_id="huge", success_url=SUCCESS, cancel_url=CANCEL
        )
    with pytest.raises(InvalidInputError):
        billing.create_checkout_session(
            session, user=ada, pack_id="small", success_url="javascript:x", cancel_url=CANCEL
        )


def test_a_stripe_outage_or_a_bad_key_is_a_clear_message(
    session: Session,
    stripe_api: FakeStripeServer,
    stripe_settings: Settings,
    ada: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stripe_api.fail_next = 10
    with pytest.raises(BillingUnavailableError, match="Nothing was charged"):
        billing.create_checkout_session(
            session, user=ada, pack_id="small", success_url=SUCCESS, cancel_url=CANCEL
        )
    session.rollback()
    stripe_api.fail_next = 0
    monkeypatch.setenv("STRIPE_SECRET_KEY", "rk_live_wrong_kind_of_key")
    reset_settings()
    with pytest.raises(BillingUnavailableError) as caught:
        billing.create_checkout_session(
            session, user=ada, pack_id="small", success_url=SUCCESS, cancel_url=CANCEL
        )
    assert "rk_live" not in caught.value.message
    session.rollback()
    assert session.exec(select(Payment)).all() == []


# -- webhook: purchases ------------------------------------------------------------------------


def test_a_paid_checkout_adds_credits_exactly_once(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = buy(session, stripe_api, ada, "small")
    event = stripe_api.completed_event(checkout_id)
    assert deliver(session, event) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 100
    # Stripe redelivers: the same event is acknowledged and not applied again.
    assert deliver(session, event) == "duplicate"
    # A different event about the same payment doesn't pay twice either.
    again = make_event("checkout.session.async_payment_succeeded", event["data"]["object"])
    assert deliver(session, again) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 100
    [payment] = billing.billing_history(session, user_id=uid(ada))
    assert (payment.status, payment.credits, payment.amount_cents) == ("paid", 100, 500)
    assert payment.stripe_payment_intent is not None
    assert session.get(StripeEvent, event["id"]) is not None
    entries = credits.history(session, user_id=uid(ada)).entries
    assert [(e.kind, e.amount) for e in entries] == [("purchase", 100)]
    # One receipt, though two events said the payment went through.
    receipt = only_email(session, "payment_receipt", to=ada.email)
    assert receipt.context["payment_id"] == payment.id and receipt.context["credits"] == 100
    assert (receipt.context["amount"], receipt.context["currency"]) == ("5.00", "USD")
    assert receipt.subject == "Receipt: 5.00 USD for 100 credits"


def test_concurrent_deliveries_of_one_event_apply_once(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = buy(session, stripe_api, ada, "large")
    body, header = signed(stripe_api.completed_event(checkout_id), WEBHOOK_SECRET)
    engine = engine_for(get_settings().resolved_database_url)

    def one() -> str:
        with Session(engine, expire_on_commit=False) as s:
            return billing.handle_webhook(s, payload=body, signature_header=header)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: one(), range(8)))
    assert outcomes.count("applied") >= 1
    assert set(outcomes) <= {"applied", "duplicate"}
    assert credits.balance(session, user_id=uid(ada)) == 2000
    assert len(session.exec(select(StripeEvent)).all()) == 1


def test_an_unpaid_checkout_adds_nothing(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = buy(session, stripe_api, ada)
    unpaid = dict(stripe_api.sessions[checkout_id], status="complete", payment_status="unpaid")
    assert deliver(session, make_event("checkout.session.completed", unpaid)) == "ignored"
    assert credits.balance(session, user_id=uid(ada)) == 0


def test_unknown_events_are_acknowledged(session: Session, stripe_settings: Settings) -> None:
    assert deliver(session, make_event("customer.created", {"id": "cus_x"})) == "ignored"


# -- webhook: what is refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    ["forged", "wrong_secret", "stale", "body_changed", "missing", "no_v1", "not_json"],
)
def test_unverified_webhooks_are_refused(
    session: Session,
    stripe_api: FakeStripeServer,
    stripe_settings: Settings,
    ada: User,
    tamper: str,
) -> None:
    checkout_id = buy(session, stripe_api, ada)
    event = stripe_api.completed_event(checkout_id)
    body, header = signed(event, WEBHOOK_SECRET)
    now = int(time.time())
    if tamper == "forged":
        header = f"t={now},v1={'0' * 64}"
    elif tamper == "wrong_secret":
        header = sign(body, "whsec_someone_else")
    elif tamper == "stale":
        header = sign(body, WEBHOOK_SECRET, timestamp=now - billing.WEBHOOK_TOLERANCE - 30)
    elif tamper == "body_changed":
        body = body.replace(b'"amount_total": 500', b'"amount_total": 50000')
        body = body.replace(b'"credits": "100"', b'"credits": "100000"')
    elif tamper == "missing":
        header = ""
    elif tamper == "no_v1":
        header = header.replace("v1=", "v0=")
    elif tamper == "not_json":
        body = b"not json"
        header = sign(body, WEBHOOK_SECRET)
    with pytest.raises(WebhookSignatureError) as caught:
        billing.handle_webhook(session, payload=body, signature_header=header)
    assert caught.value.status_code == 400
    assert credits.balance(session, user_id=uid(ada)) == 0
    assert session.exec(select(StripeEvent)).all() == []


def test_a_captured_event_replayed_later_is_refused(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = buy(session, stripe_api, ada)
    event = stripe_api.completed_event(checkout_id)
    old = int(time.time()) - 3600
    body, header = signed(event, WEBHOOK_SECRET, timestamp=old)
    with pytest.raises(WebhookSignatureError):
        billing.handle_webhook(session, payload=body, signature_header=header)
    assert credits.balance(session, user_id=uid(ada)) == 0


# -- webhook: refunds --------------------------------------------------------------------------


def charge_refunded(
    stripe_api: FakeStripeServer, checkout_id: str, refunded: int, *, charge_id: str = "ch_test_1"
) -> dict[str, Any]:
    checkout = stripe_api.sessions[checkout_id]
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": checkout["amount_total"],
        "amount_refunded": refunded,
        "currency": checkout["currency"],
        "customer": checkout["customer"],
        "payment_intent": checkout["payment_intent"],
        "refunded": refunded >= checkout["amount_total"],
    }
    return make_event("charge.refunded", charge)


def test_a_full_refund_takes_the_credits_back_once(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = pay(session, stripe_api, ada, "small")
    event = charge_refunded(stripe_api, checkout_id, 500)
    assert deliver(session, event) == "applied"
    assert deliver(session, event) == "duplicate"
    assert deliver(session, charge_refunded(stripe_api, checkout_id, 500)) == "ignored"
    assert credits.balance(session, user_id=uid(ada)) == 0
    history = billing.billing_history(session, user_id=uid(ada))
    assert {(p.kind, p.status, p.credits) for p in history} == {
        ("purchase", "refunded", 100),
        ("refund", "refunded", 100),
    }


def test_partial_refunds_take_back_their_share(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = pay(session, stripe_api, ada, "medium")  # 500 credits for 2000 cents
    assert deliver(session, charge_refunded(stripe_api, checkout_id, 500)) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 375
    [purchase] = [
        p for p in billing.billing_history(session, user_id=uid(ada)) if p.kind == "purchase"
    ]
    assert purchase.status == "partially_refunded"
    # Stripe's amount_refunded is cumulative: the second event covers the rest.
    assert deliver(session, charge_refunded(stripe_api, checkout_id, 2000)) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 0


def test_a_refund_after_spending_never_goes_below_zero_and_is_flagged(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    checkout_id = pay(session, stripe_api, ada, "small")
    held = credits.reserve(session, user_id=uid(ada), amount=70, idempotency_key="a1")
    credits.commit(session, key=held.key, actual=70)
    assert deliver(session, charge_refunded(stripe_api, checkout_id, 500)) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 0
    [refund] = billing.payments_log(
        session, actor=_admin(session), status=billing.PaymentStatus.flagged
    )
    assert (refund.kind, refund.credits) == ("refund", 30)
    assert "30 of 100" in refund.note


def _admin(session: Session) -> User:
    user, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
    session.commit()
    return user


def test_a_refund_of_an_unknown_payment_is_ignored(
    session: Session, stripe_settings: Settings
) -> None:
    charge = {"id": "ch_x", "object": "charge", "amount": 500, "amount_refunded": 500,
              "payment_intent": "pi_unknown", "currency": "usd"}  # fmt: skip
    assert deliver(session, make_event("charge.refunded", charge)) == "ignored"


# -- webhook: subscriptions --------------------------------------------------------------------


def invoice_paid(
    customer: str, user: User, *, start: datetime, invoice_id: str, sub_id: str = "sub_test_1"
) -> dict[str, Any]:
    end = start.replace(month=start.month % 12 + 1, year=start.year + start.month // 12)
    metadata = {"user_id": str(uid(user)), "plan": "pro"}
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "amount_paid": pricing.PLANS["pro"].price_cents,
        "currency": "usd",
        "billing_reason": "subscription_cycle",
        "status": "paid",
        "created": int(start.timestamp()),
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": metadata},
        },
        "lines": {
            "object": "list",
            "data": [{"period": {"start": int(start.timestamp()), "end": int(end.timestamp())}}],
        },
    }
    return make_event("invoice.paid", invoice)


def subscription(
    customer: str, user: User, status: str, *, end: datetime, sub_id: str = "sub_test_1"
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {"user_id": str(uid(user)), "plan": "pro"},
        "items": {"data": [{"current_period_end": int(end.timestamp())}]},
    }


def test_the_subscription_lifecycle(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    url = billing.create_subscription_checkout(
        session, user=ada, success_url=SUCCESS, cancel_url=CANCEL
    )
    session.commit()
    checkout_id = url.rsplit("/", 1)[-1]
    sent = [r for r in stripe_api.requests if r.path == "/v1/checkout/sessions"][-1]
    assert sent.params["mode"] == "subscription"
    assert sent.params["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    assert sent.params["subscription_data"]["metadata"]["plan"] == "pro"

    assert deliver(session, stripe_api.completed_event(checkout_id)) == "applied"
    session.refresh(ada)
    assert ada.plan == "pro"
    customer = ada.stripe_customer_id
    assert customer
    sub = str(stripe_api.sessions[checkout_id]["subscription"])

    pro = pricing.PLANS["pro"].monthly_credits
    may = datetime(2026, 5, 3, tzinfo=UTC)
    first = invoice_paid(customer, ada, start=may, invoice_id="in_1", sub_id=sub)
    assert deliver(session, first) == "applied"
    assert deliver(session, first) == "duplicate"
    assert credits.balance(session, user_id=uid(ada)) == pro
    session.refresh(ada)
    assert ada.plan_renews_at == datetime(2026, 6, 3, tzinfo=UTC)

    june = invoice_paid(
        customer, ada, start=datetime(2026, 6, 3, tzinfo=UTC), invoice_id="in_2", sub_id=sub
    )
    assert deliver(session, june) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 2 * pro
    assert [p.kind for p in billing.billing_history(session, user_id=uid(ada))].count(
        "subscription"
    ) == 2
    receipts = emails(session, "payment_receipt")  # one per paid invoice, the checkout none
    assert [r.context["description"] for r in receipts] == [
        "Pro plan, May 2026",
        "Pro plan, June 2026",
    ]
    assert {r.to_address for r in receipts} == {ada.email}

    july = datetime(2026, 7, 3, tzinfo=UTC)
    late = make_event(
        "customer.subscription.updated",
        subscription(customer, ada, "past_due", end=july, sub_id=sub),
    )
    assert deliver(session, late) == "applied"
    session.refresh(ada)
    assert ada.plan == "pro"  # kept while Stripe retries the card

    gone = make_event(
        "customer.subscription.deleted",
        subscription(customer, ada, "active", end=july, sub_id=sub),
    )
    assert deliver(session, gone) == "applied"
    session.refresh(ada)
    assert (ada.plan, ada.plan_renews_at) == ("free", None)
    # Credits already granted stay: the plan ends, the ledger is never edited.
    assert credits.balance(session, user_id=uid(ada)) == 2 * pro


def test_subscribing_twice_is_refused(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    from app.services.core.errors import ConflictError

    ada.plan = "pro"
    session.add(ada)
    session.commit()
    with pytest.raises(ConflictError):
        billing.create_subscription_checkout(
            session, user=ada, success_url=SUCCESS, cancel_url=CANCEL
        )


# -- webhook: subscription events out of order -------------------------------------------------

T0 = int(datetime(2026, 5, 3, 12, tzinfo=UTC).timestamp())
JUNE = datetime(2026, 6, 3, tzinfo=UTC)
JULY = datetime(2026, 7, 3, tzinfo=UTC)


def sub_event(
    user: User,
    status: str,
    *,
    at: int,
    event_type: str = "customer.subscription.updated",
    end: datetime = JUNE,
    sub_id: str = "sub_test_1",
) -> dict[str, Any]:
    """A subscription event Stripe created at `at` (its `created`, not when it arrives)."""
    event = make_event(event_type, subscription("cus_test_1", user, status, end=end, sub_id=sub_id))
    event["created"] = at
    return event


def plan_of(session: Session, user: User) -> tuple[str, datetime | None]:
    session.refresh(user)
    return user.plan, user.plan_renews_at


def test_an_old_active_arriving_after_canceled_changes_nothing(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    active = sub_event(ada, "active", at=T0, event_type="customer.subscription.created")
    canceled = sub_event(ada, "canceled", at=T0 + 60, event_type="customer.subscription.deleted")
    assert deliver(session, canceled) == "applied"
    assert plan_of(session, ada) == ("free", None)
    assert deliver(session, active) == "stale"
    assert plan_of(session, ada) == ("free", None)
    # Acknowledged once, like any event: a redelivery is a duplicate.
    assert deliver(session, active) == "duplicate"
    row = session.get(StripeSubscription, "sub_test_1")
    assert row is not None
    assert (row.status, row.event_id) == ("canceled", canceled["id"])


def test_updates_apply_by_event_time_not_arrival(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    created = sub_event(ada, "incomplete", at=T0, event_type="customer.subscription.created")
    active = sub_event(ada, "active", at=T0 + 5, end=JUNE)
    past_due = sub_event(ada, "past_due", at=T0 + 3600, end=JULY)
    assert deliver(session, past_due) == "applied"
    assert plan_of(session, ada) == ("pro", JULY)
    assert deliver(session, active) == "stale"  # its period end is older too
    assert deliver(session, created) == "stale"  # "incomplete" doesn't take the plan away
    assert plan_of(session, ada) == ("pro", JULY)
    unpaid = sub_event(ada, "unpaid", at=T0 + 7200)
    assert deliver(session, unpaid) == "applied"
    assert plan_of(session, ada) == ("free", None)
    # "unpaid" isn't final: paying later makes the subscription active again.
    assert deliver(session, sub_event(ada, "active", at=T0 + 9000, end=JULY)) == "applied"
    assert plan_of(session, ada) == ("pro", JULY)


def test_events_of_the_same_second_apply_in_arrival_order_but_canceled_is_final(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    assert deliver(session, sub_event(ada, "active", at=T0, end=JUNE)) == "applied"
    assert deliver(session, sub_event(ada, "past_due", at=T0, end=JULY)) == "applied"
    assert plan_of(session, ada) == ("pro", JULY)
    assert deliver(session, sub_event(ada, "canceled", at=T0)) == "applied"
    assert deliver(session, sub_event(ada, "active", at=T0)) == "stale"
    # Stripe never revives a canceled subscription: even a "newer" active can't.
    assert deliver(session, sub_event(ada, "active", at=T0 + 60)) == "stale"
    assert plan_of(session, ada) == ("free", None)


def test_each_subscription_has_its_own_clock(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    """Re-subscribing after a cancel: the old subscription's late "canceled" doesn't end the
    new one, and each subscription's events are ordered on their own."""
    old_active = sub_event(ada, "active", at=T0, sub_id="sub_old", end=JUNE)
    new_active = sub_event(ada, "active", at=T0 + 10, sub_id="sub_new", end=JULY)
    old_canceled = sub_event(ada, "canceled", at=T0 + 20, sub_id="sub_old")
    assert deliver(session, old_active) == "applied"
    assert deliver(session, new_active) == "applied"
    assert deliver(session, old_canceled) == "applied"
    assert plan_of(session, ada) == ("pro", JULY)
    # An event of the new subscription older than the old one's cancel still applies.
    assert deliver(session, sub_event(ada, "past_due", at=T0 + 15, sub_id="sub_new")) == "applied"
    assert plan_of(session, ada)[0] == "pro"
    assert deliver(session, sub_event(ada, "canceled", at=T0 + 30, sub_id="sub_new")) == "applied"
    assert plan_of(session, ada) == ("free", None)


def test_a_late_invoice_of_a_canceled_subscription_pays_credits_but_no_plan(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    canceled = sub_event(ada, "canceled", at=T0 + 60, event_type="customer.subscription.deleted")
    assert deliver(session, canceled) == "applied"
    invoice = invoice_paid("cus_test_1", ada, start=datetime(2026, 5, 3, tzinfo=UTC),
                           invoice_id="in_late")  # fmt: skip
    invoice["created"] = T0
    assert deliver(session, invoice) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == pricing.PLANS["pro"].monthly_credits
    assert plan_of(session, ada) == ("free", None)


def test_checkout_then_an_older_subscription_event(
    session: Session, stripe_api: FakeStripeServer, stripe_settings: Settings, ada: User
) -> None:
    """Checkout says paid before any event about the subscription: every such event counts,
    even one Stripe created before the checkout completed."""
    url = billing.create_subscription_checkout(
        session, user=ada, success_url=SUCCESS, cancel_url=CANCEL
    )
    session.commit()
    checkout_id = url.rsplit("/", 1)[-1]
    assert deliver(session, stripe_api.completed_event(checkout_id)) == "applied"
    sub = str(stripe_api.sessions[checkout_id]["subscription"])
    assert plan_of(session, ada) == ("pro", None)
    earlier = sub_event(ada, "active", at=T0, sub_id=sub, end=JUNE)
    assert deliver(session, earlier) == "applied"
    assert plan_of(session, ada) == ("pro", JUNE)
    canceled = sub_event(ada, "canceled", at=T0 + 1, sub_id=sub)
    assert deliver(session, canceled) == "applied"
    # The same checkout's event redelivered under a new id doesn't bring the plan back.
    again = make_event("checkout.session.async_payment_succeeded",
                       stripe_api.completed_event(checkout_id)["data"]["object"])  # fmt: skip
    assert deliver(session, again) == "applied"
    assert plan_of(session, ada) == ("free", None)


def deliver_concurrently(url: str, events: list[dict[str, Any]]) -> list[str]:
    """Every event delivered at once, each from its own thread and session."""
    bodies = [signed(e, WEBHOOK_SECRET) for e in events]
    engine = engine_for(url)
    barrier = threading.Barrier(len(bodies))

    def one(body_and_header: tuple[bytes, str]) -> str:
        body, header = body_and_header
        barrier.wait()
        with Session(engine, expire_on_commit=False) as s:
            return billing.handle_webhook(s, payload=body, signature_header=header)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def check_racing_events_leave_the_newest_state(session: Session, url: str, user: User) -> None:
    statuses = ["active", "past_due", "active", "unpaid", "active", "past_due", "canceled"]
    events = [
        sub_event(user, status, at=T0 + i * 60, end=datetime(2026, 6, 1 + i, tzinfo=UTC))
        for i, status in enumerate(statuses)
    ]
    # The newest ("canceled") goes first, the rest race it in reverse order.
    outcomes = deliver_concurrently(url, list(reversed(events)))
    assert outcomes.count("applied") >= 1
    assert set(outcomes) <= {"applied", "stale", "ignored"}
    row = session.exec(select(StripeSubscription).execution_options(populate_existing=True)).one()
    assert (row.status, row.event_id) == ("canceled", events[-1]["id"])
    assert plan_of(session, user) == ("free", None)

    # Racing without the final state: the newest "active" wins whatever the order.
    events = [
        sub_event(
            user,
            status,
            at=T0 + i * 60,
            end=datetime(2026, 6, 1 + i, tzinfo=UTC),
            sub_id="sub_test_2",
        )  # fmt: skip
        for i, status in enumerate(["past_due", "unpaid", "past_due", "unpaid", "active"])
    ]
    deliver_concurrently(url, list(reversed(events)))
    assert plan_of(session, user) == ("pro", datetime(2026, 6, 5, tzinfo=UTC))
    assert len(session.exec(select(StripeEvent)).all()) == 12


def test_racing_deliveries_leave_the_newest_state(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    check_racing_events_leave_the_newest_state(session, get_settings().resolved_database_url, ada)


# -- the hosted page (browser tests use it) ----------------------------------------------------


def test_the_fake_checkout_page_delivers_a_signed_webhook(
    session: Session, stripe_settings: Settings, ada: User
) -> None:

    received: list[tuple[bytes, str]] = []

    class Sink(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    sink = HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.handle_request, daemon=True).start()
    hook = f"http://127.0.0.1:{sink.server_address[1]}/api/stripe/webhook"
    with FakeStripeServer(webhook_url=hook, webhook_secret=WEBHOOK_SECRET) as fake:
        reset_settings()
        settings = get_settings().model_copy(update={"stripe_api_base": fake.url})
        url = billing.create_checkout_session(
            session, user=ada, pack_id="small", success_url=SUCCESS, cancel_url=CANCEL,
            settings=settings,
        )  # fmt: skip
        session.commit()
        assert "Pay" in httpx.get(url).text
        paid = httpx.post(url, follow_redirects=False)
        assert paid.status_code == 303
        assert paid.headers["location"] == SUCCESS
    sink.server_close()
    body, header = received[0]
    assert billing.handle_webhook(session, payload=body, signature_header=header) == "applied"
    assert credits.balance(session, user_id=uid(ada)) == 100


# -- localstripe (PyPI) for customers ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_customers_against_localstripe(
    session: Session, stripe_settings: Settings, ada: User
) -> None:
    exe = Path(sys.executable).parent / "localstripe"
    if not exe.exists():
        pytest.fail("localstripe is missing: run `make test`, which installs requirements-dev.txt")
    port = _free_port()
    proc = subprocess.Popen(
        [str(exe), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        settings = stripe_settings.model_copy(update={"stripe_api_base": base})
        client = billing.stripe_client(settings)
        customer_id = billing.ensure_customer(session, user=ada, client=client)
        assert customer_id.startswith("cus_")
        assert billing.ensure_customer(session, user=ada, client=client) == customer_id
        fetched = client.v1.customers.retrieve(customer_id)
        assert fetched.email == "ada@example.com"
    finally:
        proc.terminate()
        proc.wait(timeout=10)

"""Stripe Checkout: credit packs and the Pro subscription. Records a pending payment only;
credits arrive with the webhook."""

from __future__ import annotations

from typing import Any

import stripe
from sqlmodel import Session
from stripe.params.checkout import SessionCreateParams

from app.services.billing.billing.setup import PACKS, PaymentKind, PaymentStatus, stripe_client
from app.services.billing.pricing import PLANS
from app.services.core.errors import (
    BillingUnavailableError,
    ConflictError,
    InvalidInputError,
)
from app.services.core.logs import get_logger
from app.services.core.models import Payment, User
from app.settings import Settings

log = get_logger("billing")


def create_checkout_session(
    session: Session,
    *,
    user: User,
    pack_id: str,
    success_url: str,
    cancel_url: str,
    settings: Settings | None = None,
) -> str:
    """Start buying a credit pack; returns the Stripe Checkout URL to send the browser to.
    Records a pending payment (the caller commits); credits arrive with the webhook."""
    assert user.id is not None
    pack = PACKS.get(pack_id)
    if pack is None:
        raise InvalidInputError(f"Unknown credit pack. Pick one of: {', '.join(PACKS)}.")
    client = stripe_client(settings)
    metadata = {"user_id": str(user.id), "credits": str(pack.credits), "pack_id": pack.id}
    params: SessionCreateParams = {
        "mode": "payment",
        "customer": ensure_customer(session, user=user, client=client),
        "client_reference_id": str(user.id),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": pack.currency,
                    "unit_amount": pack.amount_cents,
                    "product_data": {"name": f"{pack.credits} JSONCraft credits"},
                },
            }
        ],
        "success_url": _check_url(success_url),
        "cancel_url": _check_url(cancel_url),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    checkout = _call(lambda: client.v1.checkout.sessions.create(params=params))
    session.add(
        Payment(
            user_id=user.id,
            stripe_session_id=checkout.id,
            amount_cents=pack.amount_cents,
            currency=pack.currency,
            credits=pack.credits,
            status=PaymentStatus.pending,
            kind=PaymentKind.purchase,
            note=pack.label,
        )
    )
    session.flush()
    return _checkout_url(checkout)


def create_subscription_checkout(
    session: Session,
    *,
    user: User,
    success_url: str,
    cancel_url: str,
    plan: str = "pro",
    settings: Settings | None = None,
) -> str:
    """Start a subscription to a paid plan; returns the Checkout URL. The plan changes when
    the webhook says the subscription is paid."""
    assert user.id is not None
    target = PLANS.get(plan)
    if target is None or target.price_cents <= 0:
        raise InvalidInputError("Pick a paid plan to subscribe to.")
    if user.plan == target.name:
        raise ConflictError(f"You are already on the {target.display_name} plan.")
    client = stripe_client(settings)
    metadata = {"user_id": str(user.id), "plan": target.name}
    params: SessionCreateParams = {
        "mode": "subscription",
        "customer": ensure_customer(session, user=user, client=client),
        "client_reference_id": str(user.id),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": target.price_cents,
                    "recurring": {"interval": "month"},
                    "product_data": {"name": f"JSONCraft {target.display_name}"},
                },
            }
        ],
        "success_url": _check_url(success_url),
        "cancel_url": _check_url(cancel_url),
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
    }
    checkout = _call(lambda: client.v1.checkout.sessions.create(params=params))
    return _checkout_url(checkout)


def ensure_customer(session: Session, *, user: User, client: stripe.StripeClient) -> str:
    """The user's Stripe customer id, created once and reused for every checkout."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    customer = _call(
        lambda: client.v1.customers.create(
            params={"email": user.email, "metadata": {"user_id": str(user.id)}},
            # Two checkouts started at once must not create two customers.
            options={"idempotency_key": f"jsoncraft-customer-{user.id}"},
        )
    )
    user.stripe_customer_id = customer.id
    session.add(user)
    session.flush()
    return customer.id


def _call(request: Any) -> Any:
    """Run one SDK call; Stripe's errors become a message the user can act on."""
    try:
        return request()
    except stripe.StripeError as e:
        log.error("stripe request failed: %s", e.__class__.__name__, exc_info=e)
        raise BillingUnavailableError(
            "Payments are unavailable right now. Nothing was charged; try again in a few minutes."
        ) from e


def _checkout_url(checkout: Any) -> str:
    url = getattr(checkout, "url", None)
    if not url:
        raise BillingUnavailableError("Stripe did not return a checkout page. Try again.")
    return str(url)


def _check_url(url: str) -> str:
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise InvalidInputError("The return address must be an http(s) URL.")
    return url

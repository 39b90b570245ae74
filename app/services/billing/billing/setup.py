"""Whether Stripe is configured, a client for it, and what can be bought (packs)."""

from __future__ import annotations

from dataclasses import dataclass

import stripe

from app.services.core.errors import (
    BillingUnavailableError,
)
from app.settings import Settings, get_settings

MAX_HISTORY = 200


class PaymentKind:
    purchase = "purchase"
    subscription = "subscription"
    refund = "refund"


class PaymentStatus:
    pending = "pending"
    paid = "paid"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    flagged = "flagged"  # a refund whose credits were already spent: an admin should look


@dataclass(frozen=True)
class CreditPack:
    id: str
    credits: int
    amount_cents: int
    currency: str = "usd"

    @property
    def label(self) -> str:
        return f"{self.credits} credits for ${self.amount_cents / 100:.2f}"


PACKS: dict[str, CreditPack] = {
    pack.id: pack
    for pack in (
        CreditPack(id="small", credits=100, amount_cents=500),
        CreditPack(id="medium", credits=500, amount_cents=2000),
        CreditPack(id="large", credits=2000, amount_cents=6000),
    )
}


def billing_enabled(settings: Settings | None = None) -> bool:
    """True when both Stripe keys are set. The UI shows purchases only then."""
    settings = settings or get_settings()
    return bool(
        settings.stripe_secret_key
        and settings.stripe_secret_key.get_secret_value()
        and settings.stripe_webhook_secret
        and settings.stripe_webhook_secret.get_secret_value()
    )


def stripe_client(settings: Settings | None = None) -> stripe.StripeClient:
    """A client for STRIPE_API_BASE with STRIPE_SECRET_KEY (no module-level SDK state)."""
    settings = settings or get_settings()
    if not billing_enabled(settings) or settings.stripe_secret_key is None:
        raise BillingUnavailableError(
            "Buying credits is not available here. Ask an admin to add credits to your account."
        )
    return stripe.StripeClient(
        settings.stripe_secret_key.get_secret_value(),
        base_addresses={"api": settings.stripe_api_base.rstrip("/")},
        max_network_retries=2,
    )

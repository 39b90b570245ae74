"""Stripe: credit packs through Checkout, the Pro plan as a subscription, and the webhook.

Modules: setup (is Stripe configured, the client, the packs), checkout, history, webhook.

Credits are only ever added by the webhook, after Stripe says the money arrived; creating a
Checkout Session records a pending payment and nothing else. Every webhook event is:

1. verified (`stripe.Webhook.construct_event`: HMAC-SHA256 with STRIPE_WEBHOOK_SECRET, and a
   timestamp at most `WEBHOOK_TOLERANCE` seconds old), else `WebhookSignatureError` (HTTP 400);
2. skipped if its id is in `stripe_events` (Stripe redelivers; a replay is acknowledged);
3. applied: ledger writes first, each with a key derived from the Stripe object (the Checkout
   Session, the invoice, the refund state), so a crash between steps and a retry can't apply
   anything twice; then the payment rows and plan changes, committed together with the event
   id. Two deliveries racing past step 2 meet the UNIQUE constraints and the loser rolls back.

Stripe doesn't deliver events in order. Subscription events carry the whole subscription, so
the newest one wins: `stripe_subscriptions` keeps, per subscription, the state and the `created`
time of the event that set it, and an older event is acknowledged as "stale" without being
applied (an old "active" arriving after "canceled" changes nothing). Events with the same
`created` second apply in arrival order, except that "canceled" and "incomplete_expired" are
final in Stripe and never give way. The check and the write are one conditional UPDATE, so two
deliveries racing about one subscription can't both win. A user's plan then follows their live
subscriptions: the late "canceled" of an old subscription doesn't end a newer one.

The SDK is blocking: call these functions from a worker thread (`asyncio.to_thread`) or a sync
FastAPI route, never on the event loop. Without STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET
billing is off: `billing_enabled` is False, the UI hides purchases and admins grant credits.
"""

from app.services.billing.billing.checkout import (
    create_checkout_session,
    create_subscription_checkout,
    ensure_customer,
)
from app.services.billing.billing.history import billing_history, payments_log
from app.services.billing.billing.setup import (
    MAX_HISTORY,
    PACKS,
    CreditPack,
    PaymentKind,
    PaymentStatus,
    billing_enabled,
    stripe_client,
)
from app.services.billing.billing.webhook import WEBHOOK_TOLERANCE, handle_webhook

__all__ = [
    "MAX_HISTORY",
    "PACKS",
    "WEBHOOK_TOLERANCE",
    "CreditPack",
    "PaymentKind",
    "PaymentStatus",
    "billing_enabled",
    "billing_history",
    "create_checkout_session",
    "create_subscription_checkout",
    "ensure_customer",
    "handle_webhook",
    "payments_log",
    "stripe_client",
]

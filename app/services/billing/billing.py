"""Stripe: credit packs through Checkout, the Pro plan as a subscription, and the webhook.

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

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy import func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from stripe.params.checkout import SessionCreateParams

from app.services.accounts.auth import require_role
from app.services.billing import credits
from app.services.billing.pricing import DEFAULT_PLAN, PLANS, grant_monthly_credits
from app.services.core.errors import (
    BillingUnavailableError,
    ConflictError,
    InvalidInputError,
    WebhookSignatureError,
)
from app.services.core.logs import get_logger
from app.services.core.models import Payment, Role, StripeEvent, StripeSubscription, User, utcnow
from app.settings import Settings, get_settings

log = get_logger("billing")

WEBHOOK_TOLERANCE = 300  # seconds; Stripe's own default
MAX_HISTORY = 200
# Subscription states in which the customer keeps the paid plan. "past_due" keeps it while
# Stripe retries the card; "canceled", "unpaid" and "incomplete_expired" end it.
_ACTIVE_STATES = {"active", "trialing", "past_due"}
_ENDED_STATES = {"canceled", "unpaid", "incomplete_expired"}
# Ended for good: Stripe never revives these, so nothing may overwrite them.
_FINAL_STATES = {"canceled", "incomplete_expired"}
# A subscription known only from its checkout, not yet from an event about it: any event wins.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


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


# -- setup -------------------------------------------------------------------------------------


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


# -- checkout ----------------------------------------------------------------------------------


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


# -- history -----------------------------------------------------------------------------------


def billing_history(session: Session, *, user_id: int, limit: int = 50) -> list[Payment]:
    """A user's payments and refunds, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInputError(f"Ask for between 1 and {MAX_HISTORY} payments at a time.")
    return list(
        session.exec(
            select(Payment)
            .where(Payment.user_id == user_id)
            .order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
            .limit(limit)
        )
    )


def payments_log(
    session: Session, *, actor: User | None, limit: int = 100, status: str | None = None
) -> list[Payment]:
    """Every payment, newest first (admins only); `status="flagged"` lists refunds to check."""
    require_role(actor, Role.admin)
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInputError(f"Ask for between 1 and {MAX_HISTORY} payments at a time.")
    query = select(Payment)
    if status:
        query = query.where(Payment.status == status)
    return list(
        session.exec(
            query.order_by(col(Payment.created_at).desc(), col(Payment.id).desc()).limit(limit)
        )
    )


# -- webhook -----------------------------------------------------------------------------------


def handle_webhook(
    session: Session,
    *,
    payload: bytes,
    signature_header: str,
    settings: Settings | None = None,
) -> str:
    """Verify and apply one webhook delivery. Returns "applied", "duplicate", "stale" (older
    than what is known about its subscription) or "ignored".

    Commits the session (the event id together with its effects), so pass a session without
    pending writes. Raises WebhookSignatureError for anything not signed by Stripe just now.
    """
    settings = settings or get_settings()
    if not billing_enabled(settings) or settings.stripe_webhook_secret is None:
        raise BillingUnavailableError("Payments are not configured on this server.")
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature_header,
            settings.stripe_webhook_secret.get_secret_value(),
            tolerance=WEBHOOK_TOLERANCE,
        )
    except stripe.SignatureVerificationError as e:
        raise WebhookSignatureError("The Stripe signature is missing, wrong or too old.") from e
    except ValueError as e:  # not JSON, or not UTF-8
        raise WebhookSignatureError("The webhook body is not a Stripe event.") from e
    # Work on the verified body as plain data: the same bytes the signature covers.
    data = json.loads(payload)
    event_id, event_type = str(event.id), str(event.type)
    obj = data.get("data", {}).get("object", {})
    if session.get(StripeEvent, event_id) is not None:
        log.info("stripe event %s (%s) already applied", event_id, event_type)
        return "duplicate"
    handler = _HANDLERS.get(event_type)
    sent = _Sent(event_id, _timestamp(data.get("created")) or datetime.now(UTC))
    outcome = handler(session, obj, sent) if handler is not None else "ignored"
    session.add(StripeEvent(event_id=event_id, type=event_type))
    try:
        session.commit()
    except IntegrityError:
        # Another delivery of the same event (or of the same Stripe object) won the race.
        session.rollback()
        log.info("stripe event %s (%s) applied by a concurrent delivery", event_id, event_type)
        return "duplicate"
    log.info("stripe event %s (%s): %s", event_id, event_type, outcome)
    return outcome


@dataclass(frozen=True)
class _Sent:
    """Which event carried an object, and when Stripe created it."""

    event_id: str
    created: datetime


def _checkout_completed(session: Session, obj: dict[str, Any], sent: _Sent) -> str:
    if obj.get("payment_status") not in ("paid", "no_payment_required"):
        return "ignored"  # an async payment method: wait for async_payment_succeeded
    user = _user_for(session, obj)
    if user is None or user.id is None:
        log.warning("checkout %s names no known user", obj.get("id"))
        return "ignored"
    mode = obj.get("mode")
    if mode == "subscription":
        plan = _metadata(obj).get("plan", "pro")
        subscription_id = _id(obj.get("subscription"))
        if subscription_id and plan in PLANS:
            # Paid, so live; any event about the subscription itself overrides this.
            _ensure_subscription(session, subscription_id, user_id=user.id, plan=plan, sent=sent)
            if not _is_ended(session, subscription_id):
                user.plan = plan
        elif plan in PLANS:
            user.plan = plan
        _remember_customer(user, obj)
        session.add(user)
        return "applied"
    if mode != "payment":
        return "ignored"
    checkout_id = str(obj["id"])
    row = session.exec(select(Payment).where(Payment.stripe_session_id == checkout_id)).first()
    # The pending row is what we sold; metadata is ours too (signed by Stripe's delivery).
    amount = row.credits if row is not None else _int(_metadata(obj).get("credits"))
    if amount <= 0:
        log.warning("checkout %s has no credit amount", checkout_id)
        return "ignored"
    credits.purchase(
        session,
        user_id=user.id,
        amount=amount,
        reason=f"Bought {amount} credits.",
        idempotency_key=f"stripe:{checkout_id}",
        reference=f"stripe:{checkout_id}"[:200],
    )
    if row is None:
        row = Payment(user_id=user.id, stripe_session_id=checkout_id, kind=PaymentKind.purchase)
    row.credits = amount
    row.status = PaymentStatus.paid
    row.stripe_payment_intent = _id(obj.get("payment_intent"))
    row.amount_cents = _int(obj.get("amount_total"), row.amount_cents)
    row.currency = str(obj.get("currency") or row.currency)
    _remember_customer(user, obj)
    session.add_all([row, user])
    return "applied"


def _invoice_paid(session: Session, obj: dict[str, Any], _sent: _Sent) -> str:
    user = _user_for(session, obj)
    if user is None or user.id is None:
        log.warning("invoice %s names no known user", obj.get("id"))
        return "ignored"
    subscription_id = _invoice_subscription(obj)
    if not subscription_id:
        return "ignored"  # not a plan invoice
    plan = _subscription_metadata(obj).get("plan", "pro")
    if plan not in PLANS:
        return "ignored"
    start, end = _invoice_period(obj)
    entry = grant_monthly_credits(session, user=user, now=start, plan=plan)
    reference = f"invoice:{obj['id']}"
    if session.exec(select(Payment.id).where(Payment.stripe_reference == reference)).first():
        return "duplicate"
    # The money arrived, so the credits stay; but a paid invoice of a subscription that has
    # since ended (its event came first) doesn't bring the plan back.
    if not _is_ended(session, subscription_id):
        user.plan = plan
        user.plan_renews_at = end
    _remember_customer(user, obj)
    session.add_all(
        [
            user,
            Payment(
                user_id=user.id,
                stripe_reference=reference,
                stripe_payment_intent=_id(obj.get("payment_intent")),
                amount_cents=_int(obj.get("amount_paid")),
                currency=str(obj.get("currency") or "usd"),
                credits=entry.amount if entry is not None else 0,
                status=PaymentStatus.paid,
                kind=PaymentKind.subscription,
                note=f"{PLANS[plan].display_name} plan, {start:%B %Y}",
            ),
        ]
    )
    return "applied"


def _subscription_changed(session: Session, obj: dict[str, Any], sent: _Sent) -> str:
    user = _user_for(session, obj)
    subscription_id = _id(obj.get("id"))
    if user is None or user.id is None or not subscription_id:
        log.warning("subscription %s names no known user", obj.get("id"))
        return "ignored"
    status = str(obj.get("status") or "")
    plan = _metadata(obj).get("plan", "pro")
    _ensure_subscription(session, subscription_id, user_id=user.id, plan=plan, sent=sent)
    # Compare and write in one statement: a concurrent delivery about the same subscription
    # waits for the row (PostgreSQL) or the database (SQLite), then sees what this one wrote.
    newer = session.exec(
        update(StripeSubscription)
        .where(
            col(StripeSubscription.subscription_id) == subscription_id,
            col(StripeSubscription.event_created_at) <= sent.created,
            col(StripeSubscription.status).not_in(_FINAL_STATES),
        )
        .values(
            user_id=user.id,
            status=status[:32],
            plan=plan[:16],
            current_period_end=_timestamp(_subscription_period_end(obj)),
            event_created_at=sent.created,
            event_id=sent.event_id,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if newer.rowcount == 0:
        log.info("subscription %s: event %s is stale", subscription_id, sent.event_id)
        return "stale"
    if status not in _ACTIVE_STATES | _ENDED_STATES:
        return "ignored"  # "incomplete" etc.: the first payment hasn't gone through yet
    _follow_subscriptions(session, user)
    return "applied"


def _subscription_deleted(session: Session, obj: dict[str, Any], sent: _Sent) -> str:
    return _subscription_changed(session, {**obj, "status": "canceled"}, sent)


def _ensure_subscription(
    session: Session, subscription_id: str, *, user_id: int, plan: str, sent: _Sent
) -> None:
    """Insert the subscription's row if it has none yet: a live state that any event about
    the subscription overrides. Two deliveries inserting at once don't collide."""
    values = {
        "subscription_id": subscription_id,
        "user_id": user_id,
        "status": "active",
        "plan": plan[:16],
        "event_created_at": _NEVER,
        "event_id": sent.event_id,
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(StripeSubscription).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(StripeSubscription).on_conflict_do_nothing()
    else:  # MySQL
        statement = insert(StripeSubscription).prefix_with("IGNORE")
    session.exec(statement.values(**values))


def _is_ended(session: Session, subscription_id: str) -> bool:
    status = session.exec(
        select(StripeSubscription.status).where(
            StripeSubscription.subscription_id == subscription_id
        )
    ).first()
    return status in _ENDED_STATES


def _follow_subscriptions(session: Session, user: User) -> None:
    """The user's plan is that of their live subscription (the one paid up furthest ahead),
    else the free plan."""
    # Read the user again, locked: a delivery that committed since we loaded it may have
    # changed the plan, and only a change against what is stored now gets written.
    session.refresh(user, with_for_update=True)
    rows = session.exec(
        select(StripeSubscription)
        .where(StripeSubscription.user_id == user.id)
        .execution_options(populate_existing=True)
    ).all()
    live = [r for r in rows if r.status in _ACTIVE_STATES and r.plan in PLANS]
    if live:
        best = max(live, key=lambda r: r.current_period_end or _NEVER)
        user.plan, user.plan_renews_at = best.plan, best.current_period_end
    else:
        user.plan, user.plan_renews_at = DEFAULT_PLAN, None
    session.add(user)


def _charge_refunded(session: Session, obj: dict[str, Any], _sent: _Sent) -> str:
    intent = _id(obj.get("payment_intent"))
    refunded = _int(obj.get("amount_refunded"))  # cumulative over every refund of the charge
    paid = (
        session.exec(
            select(Payment).where(
                Payment.stripe_payment_intent == intent,
                col(Payment.kind).in_([PaymentKind.purchase, PaymentKind.subscription]),
            )
        ).first()
        if intent
        else None
    )
    if paid is None or paid.id is None:
        log.warning("refund of charge %s matches no payment", obj.get("id"))
        return "ignored"
    earlier = int(
        session.exec(
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.stripe_payment_intent == intent, Payment.kind == PaymentKind.refund
            )
        ).one()
    )
    if refunded <= earlier:
        return "ignored"  # an older state of the charge, already applied
    total_cents = paid.amount_cents or _int(obj.get("amount"))
    # Credits follow the money: a half refund takes back half the credits (rounded down).
    owed = _share(paid.credits, refunded, total_cents) - _share(paid.credits, earlier, total_cents)
    reference = f"refund:{obj['id']}:{refunded}"
    taken = 0
    if owed > 0:
        entry = credits.take_back(
            session,
            user_id=paid.user_id,
            amount=owed,
            reason=f"Stripe refund of payment {paid.id}.",
            idempotency_key=f"stripe:{reference}",
            reference=f"stripe:{intent}"[:200],
        )
        taken = -entry.amount
    flagged = taken < owed
    note = (
        f"Took back {taken} of {owed} credits: the rest were already spent."
        if flagged
        else f"Took back {taken} credits."
    )
    if flagged:
        log.warning("refund %s: %s (user %s)", reference, note, paid.user_id)
    paid.status = (
        PaymentStatus.refunded if refunded >= total_cents else PaymentStatus.partially_refunded
    )
    session.add_all(
        [
            paid,
            Payment(
                user_id=paid.user_id,
                stripe_payment_intent=intent,
                stripe_reference=reference,
                amount_cents=refunded - earlier,
                currency=str(obj.get("currency") or paid.currency),
                credits=taken,
                status=PaymentStatus.flagged if flagged else PaymentStatus.refunded,
                kind=PaymentKind.refund,
                note=note,
            ),
        ]
    )
    return "applied"


_HANDLERS: dict[str, Callable[[Session, dict[str, Any], _Sent], str]] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "charge.refunded": _charge_refunded,
}


# -- helpers -----------------------------------------------------------------------------------


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


def _user_for(session: Session, obj: dict[str, Any]) -> User | None:
    for raw in (
        _metadata(obj).get("user_id"),
        _subscription_metadata(obj).get("user_id"),
        obj.get("client_reference_id"),
    ):
        if raw and str(raw).isdigit():
            user = session.get(User, int(raw))
            if user is not None:
                return user
    customer = _id(obj.get("customer"))
    if customer:
        return session.exec(select(User).where(User.stripe_customer_id == customer)).first()
    return None


def _remember_customer(user: User, obj: dict[str, Any]) -> None:
    customer = _id(obj.get("customer"))
    if customer and not user.stripe_customer_id:
        user.stripe_customer_id = customer


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def _subscription_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    # Invoices carry the subscription's metadata: `subscription_details` before API version
    # 2025-03-31, `parent.subscription_details` after it.
    for details in (
        obj.get("subscription_details"),
        (obj.get("parent") or {}).get("subscription_details"),
    ):
        if isinstance(details, dict) and isinstance(details.get("metadata"), dict):
            return dict(details["metadata"])
    return {}


def _invoice_subscription(obj: dict[str, Any]) -> str | None:
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    return _id(obj.get("subscription")) or _id(parent.get("subscription"))


def _invoice_period(obj: dict[str, Any]) -> tuple[datetime, datetime | None]:
    # An invoice's own period_start/end describe the *previous* period; its subscription line
    # carries the period just paid for.
    lines = (obj.get("lines") or {}).get("data") or []
    period = lines[0].get("period") if lines and isinstance(lines[0], dict) else None
    if isinstance(period, dict) and period.get("start"):
        start = _timestamp(period.get("start"))
        assert start is not None
        return start, _timestamp(period.get("end"))
    created = _timestamp(obj.get("created")) or datetime.now(UTC)
    return created, None


def _subscription_period_end(obj: dict[str, Any]) -> Any:
    # `current_period_end` moved from the subscription to its items in API version 2025-03-31.
    if obj.get("current_period_end"):
        return obj["current_period_end"]
    items = (obj.get("items") or {}).get("data") or []
    return items[0].get("current_period_end") if items and isinstance(items[0], dict) else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _id(value: Any) -> str | None:
    # Stripe sends either an id or the expanded object.
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _share(total_credits: int, cents: int, total_cents: int) -> int:
    if total_cents <= 0:
        return total_credits if cents > 0 else 0
    return total_credits * min(cents, total_cents) // total_cents

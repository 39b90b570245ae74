"""The Stripe webhook: verified, applied once, newest subscription state wins (see the
package docstring)."""

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

from app.services import analytics
from app.services.billing import credits
from app.services.billing.billing.setup import PaymentKind, PaymentStatus, billing_enabled
from app.services.billing.pricing import DEFAULT_PLAN, PLANS, grant_monthly_credits
from app.services.core.errors import (
    BillingUnavailableError,
    WebhookSignatureError,
)
from app.services.core.logs import get_logger
from app.services.core.models import Payment, StripeEvent, StripeSubscription, User, utcnow
from app.services.notify import triggers
from app.settings import Settings, get_settings

log = get_logger("billing")

WEBHOOK_TOLERANCE = 300  # seconds; Stripe's own default
# Subscription states in which the customer keeps the paid plan. "past_due" keeps it while
# Stripe retries the card; "canceled", "unpaid" and "incomplete_expired" end it.
_ACTIVE_STATES = {"active", "trialing", "past_due"}
_ENDED_STATES = {"canceled", "unpaid", "incomplete_expired"}
# Ended for good: Stripe never revives these, so nothing may overwrite them.
_FINAL_STATES = {"canceled", "incomplete_expired"}
# A subscription known only from its checkout, not yet from an event about it: any event wins.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


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
    try:
        # A handler flushes its rows (the receipt names the payment's id), so a concurrent
        # delivery's UNIQUE conflict can surface there as well as at the commit.
        outcome = handler(session, obj, sent) if handler is not None else "ignored"
        session.add(StripeEvent(event_id=event_id, type=event_type))
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
            analytics.capture_after_commit(session, user.id, "subscription_started", {"plan": plan})
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
    _send_receipt(session, user, row, description=f"{amount} credits")
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
    payment = Payment(
        user_id=user.id,
        stripe_reference=reference,
        stripe_payment_intent=_id(obj.get("payment_intent")),
        amount_cents=_int(obj.get("amount_paid")),
        currency=str(obj.get("currency") or "usd"),
        credits=entry.amount if entry is not None else 0,
        status=PaymentStatus.paid,
        kind=PaymentKind.subscription,
        note=f"{PLANS[plan].display_name} plan, {start:%B %Y}",
    )
    session.add_all([user, payment])
    _send_receipt(session, user, payment, description=payment.note)
    return "applied"


def _send_receipt(session: Session, user: User, payment: Payment, *, description: str) -> None:
    """The receipt email, in the transaction that records the payment (and the event id)."""
    session.flush()  # the payment's id names the receipt
    assert payment.id is not None
    triggers.payment_receipt(
        session,
        user=user,
        payment_id=payment.id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        credits=payment.credits,
        description=description,
        paid_at=utcnow(),
    )


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

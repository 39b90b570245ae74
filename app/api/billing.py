"""Billing REST: the Stripe webhook, checkout for credit packs and plans, billing history."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, SIGNED_IN, error_responses
from app.api.params import RequestBody
from app.services.billing import billing
from app.services.billing.pricing import PLANS
from app.services.core.db import session_scope
from app.services.core.models import User
from app.settings import get_settings

router = APIRouter(tags=["billing"], responses=COMMON)

PackId = Literal[tuple(billing.PACKS)]  # type: ignore[valid-type]
PaidPlan = Literal[tuple(p.name for p in PLANS.values() if p.price_cents > 0)]  # type: ignore[valid-type]


class PackCheckout(RequestBody):
    pack_id: PackId = Field(description="Buy this credit pack once")


class PlanCheckout(RequestBody):
    plan: PaidPlan = Field(description="Subscribe to this plan")


class CheckoutResponse(BaseModel):
    url: str


class PackPublic(BaseModel):
    id: str
    credits: int
    amount_cents: int
    currency: str
    label: str


class BillingInfo(BaseModel):
    enabled: bool
    packs: list[PackPublic]


class PaymentPublic(BaseModel):
    id: int
    kind: str
    status: str
    amount_cents: int
    currency: str
    credits: int
    note: str
    created_at: datetime


class WebhookReceived(BaseModel):
    received: bool


@router.post(
    "/api/stripe/webhook",
    response_model=WebhookReceived,
    summary="Stripe webhook (signed by Stripe)",
    # 400: a missing, forged or stale signature. 503: payments are not configured here.
    responses=error_responses(400, 503),
)
async def stripe_webhook(request: Request) -> WebhookReceived:
    # The signature covers the exact bytes Stripe sent: read them raw, never re-serialize.
    payload = await request.body()
    signature = request.headers.get("stripe-signature", "")

    def apply() -> None:
        with session_scope() as session:
            billing.handle_webhook(session, payload=payload, signature_header=signature)

    await run_in_threadpool(apply)  # the SDK and the ledger block
    return WebhookReceived(received=True)


@router.get(
    "/api/billing",
    response_model=BillingInfo,
    summary="Whether purchases are on",
    responses=SIGNED_IN,
)
def billing_info(_user: User = Depends(current_user)) -> BillingInfo:
    return BillingInfo(
        enabled=billing.billing_enabled(get_settings()),
        packs=[
            PackPublic(
                id=p.id,
                credits=p.credits,
                amount_cents=p.amount_cents,
                currency=p.currency,
                label=p.label,
            )
            for p in billing.PACKS.values()
        ],
    )


@router.post(
    "/api/billing/checkout",
    response_model=CheckoutResponse,
    summary="Start a Stripe Checkout: for a credit pack, or a plan subscription",
    # 409: already on that plan. 503: payments are off here, or Stripe can't be reached.
    responses=SIGNED_IN | error_responses(409, 503),
)
def checkout(
    body: PackCheckout | PlanCheckout,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> CheckoutResponse:
    base = get_settings().app_url.rstrip("/")
    success = f"{base}/credits?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"
    cancel = f"{base}/credits?checkout=cancelled"
    if isinstance(body, PlanCheckout):
        url = billing.create_subscription_checkout(
            session, user=user, plan=body.plan, success_url=success, cancel_url=cancel
        )
    else:
        url = billing.create_checkout_session(
            session, user=user, pack_id=body.pack_id, success_url=success, cancel_url=cancel
        )
    return CheckoutResponse(url=url)


@router.get(
    "/api/billing/history",
    response_model=list[PaymentPublic],
    summary="Your payments, newest first",
    responses=SIGNED_IN,
)
def history(
    limit: int = Query(50, ge=1, le=billing.MAX_HISTORY),
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> list[PaymentPublic]:
    assert user.id is not None
    return [
        PaymentPublic.model_validate(p, from_attributes=True)
        for p in billing.billing_history(session, user_id=user.id, limit=limit)
    ]

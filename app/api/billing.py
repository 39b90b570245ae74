"""Billing REST: the Stripe webhook, checkout for credit packs and plans, billing history."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.api.deps import current_user, db_session
from app.services import billing
from app.services.db import session_scope
from app.services.models import User
from app.settings import get_settings

router = APIRouter(tags=["billing"])


class CheckoutRequest(BaseModel):
    pack_id: str = Field(default="", max_length=40)
    plan: str | None = Field(default=None, max_length=16)


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


@router.post("/api/stripe/webhook", summary="Stripe webhook (signed by Stripe)")
async def stripe_webhook(request: Request) -> dict[str, bool]:
    # The signature covers the exact bytes Stripe sent: read them raw, never re-serialize.
    payload = await request.body()
    signature = request.headers.get("stripe-signature", "")

    def apply() -> None:
        with session_scope() as session:
            billing.handle_webhook(session, payload=payload, signature_header=signature)

    await run_in_threadpool(apply)  # the SDK and the ledger block
    return {"received": True}


@router.get("/api/billing", response_model=BillingInfo, summary="Whether purchases are on")
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
    "/api/billing/checkout", response_model=CheckoutResponse, summary="Start a Stripe Checkout"
)
def checkout(
    body: CheckoutRequest,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> CheckoutResponse:
    base = get_settings().app_url.rstrip("/")
    success = f"{base}/credits?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"
    cancel = f"{base}/credits?checkout=cancelled"
    if body.plan:
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
)
def history(
    limit: int = 50,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> list[PaymentPublic]:
    assert user.id is not None
    return [
        PaymentPublic.model_validate(p, from_attributes=True)
        for p in billing.billing_history(session, user_id=user.id, limit=limit)
    ]

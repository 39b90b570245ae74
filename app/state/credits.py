"""`/credits`: balance, usage per day, the ledger, CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import reflex as rx

from app.components.shell import LOW_CREDITS
from app.services.accounts.auth import user_for_token
from app.services.billing import billing, credits, reports
from app.services.core.db import session_scope
from app.services.core.errors import AuthenticationError
from app.settings import get_settings
from app.state.base import run_service, user_message
from app.state.session import SessionState

KIND_LABELS = {
    "grant": "Granted",
    "revoke": "Revoked",
    "reserve": "Held for a request",
    "commit": "Settled",
    "refund": "Refunded",
    "purchase": "Bought",
}


def _checkout(token: str, pack_id: str) -> str:
    settings = get_settings()
    with session_scope() as session:
        user = user_for_token(session, token)
        if user is None:
            raise AuthenticationError("Sign in to buy credits.")
        return billing.create_checkout_session(
            session,
            user=user,
            pack_id=pack_id,
            success_url=f"{settings.app_url}/credits?checkout=success",
            cancel_url=f"{settings.app_url}/credits?checkout=cancelled",
        )


def _overview(token: str) -> dict[str, Any]:
    with session_scope() as session:
        user = user_for_token(session, token)
        if user is None or user.id is None:
            return {}
        page = credits.history(session, user_id=user.id, limit=100)
        usage = credits.usage_by_day(session, user_id=user.id, days=30)
        return {
            "balance": credits.balance(session, user_id=user.id),
            "plan": user.plan,
            "entries": [
                {
                    "when": e.created_at.strftime("%d %b %Y %H:%M"),
                    "what": KIND_LABELS.get(e.kind, e.kind),
                    "amount": f"{e.amount:+d}",
                    "detail": e.reason or e.reference,
                }
                for e in page.entries
            ],
            "usage": [{"day": u.day.strftime("%d %b"), "spent": u.spent} for u in usage],
            "per_model": [
                {"model": m.email, "credits": str(m.credits), "calls": str(m.calls)}
                for m in reports.my_usage_by_model(session, user_id=user.id)
            ],
            "paid_just_now": reports.paid_just_now(session, user_id=user.id),
            "payments": [
                {
                    "when": p.created_at.strftime("%d %b %Y"),
                    "credits": str(p.credits),
                    "amount": f"{p.amount_cents / 100:.2f} {p.currency.upper()}",
                    "status": p.status,
                }
                for p in billing.billing_history(session, user_id=user.id, limit=20)
            ],
        }


class CreditsState(SessionState):
    balance: int = 0
    plan: str = "free"
    entries: list[dict[str, str]] = []
    usage: list[dict[str, Any]] = []
    payments: list[dict[str, str]] = []
    per_model: list[dict[str, str]] = []
    packs: list[dict[str, str]] = [
        {"id": p.id, "label": f"{p.credits} credits", "price": f"${p.amount_cents / 100:.0f}"}
        for p in billing.PACKS.values()
    ]
    buying_enabled: bool = False
    waiting_for_payment: bool = False

    @rx.var
    def low(self) -> bool:
        return self.balance < LOW_CREDITS

    @rx.event
    async def load_credits(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        found = await run_service(_overview, self.token)
        self.balance, self.plan = int(found.get("balance", 0)), str(found.get("plan", "free"))
        self.entries, self.usage = found.get("entries", []), found.get("usage", [])
        self.payments = found.get("payments", [])
        self.per_model = found.get("per_model", [])
        self.buying_enabled = billing.billing_enabled()
        checkout = self.router.url.query_parameters.get("checkout")
        if checkout == "success" and found.get("paid_just_now"):
            return rx.toast.success("Payment received: your credits are in.")
        if checkout == "success":
            # Stripe's webhook may land after the redirect: watch the balance for a while.
            self.waiting_for_payment = True
            return CreditsState.watch_balance
        return None

    @rx.event
    async def buy(self, pack_id: str):  # type: ignore[no-untyped-def]
        try:
            url = await run_service(_checkout, self.token, pack_id)
        except Exception as e:  # billing off, Stripe down: a clear message
            return rx.toast.error(user_message(e))
        return rx.redirect(url)  # another host: the browser navigates there in this tab

    @rx.event(background=True)
    async def watch_balance(self):  # type: ignore[no-untyped-def]
        async with self:
            start, token = self.balance, self.token
        for _ in range(20):
            await asyncio.sleep(1.5)
            found = await run_service(_overview, token)
            async with self:
                if int(found.get("balance", 0)) != start or not self.waiting_for_payment:
                    self.balance = int(found.get("balance", 0))
                    self.credits = self.balance
                    self.entries = found.get("entries", [])
                    self.payments = found.get("payments", [])
                    self.waiting_for_payment = False
                    return
        async with self:
            self.waiting_for_payment = False

    @rx.event
    def download_csv(self):  # type: ignore[no-untyped-def]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["when", "what", "amount", "detail"])
        for e in self.entries:
            writer.writerow([e["when"], e["what"], e["amount"], e["detail"]])
        return rx.download(data=out.getvalue(), filename="jsoncraft-credits.csv")

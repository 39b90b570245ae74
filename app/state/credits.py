"""`/credits`: balance, usage per day, the ledger, CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

import reflex as rx

from app.components.shell import LOW_CREDITS
from app.services import credits
from app.services.auth import user_for_token
from app.services.db import session_scope
from app.state.base import run_service
from app.state.session import SessionState

KIND_LABELS = {
    "grant": "Granted",
    "revoke": "Revoked",
    "reserve": "Held for a request",
    "commit": "Settled",
    "refund": "Refunded",
    "purchase": "Bought",
}


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
        }


class CreditsState(SessionState):
    balance: int = 0
    plan: str = "free"
    entries: list[dict[str, str]] = []
    usage: list[dict[str, Any]] = []

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
        return None

    @rx.event
    def download_csv(self):  # type: ignore[no-untyped-def]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["when", "what", "amount", "detail"])
        for e in self.entries:
            writer.writerow([e["when"], e["what"], e["amount"], e["detail"]])
        return rx.download(data=out.getvalue(), filename="jsoncraft-credits.csv")

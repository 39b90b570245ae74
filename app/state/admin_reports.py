"""`/admin` reports: usage per model over time, one account's usage, top users, revenue.

Every handler goes through app/services/billing/reports.py, which refuses anyone but an admin.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from app.services.billing import reports
from app.services.core.models import User
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

DAYS = 30
# Radix colour scales for the chart series; models past the last colour share "other".
COLORS = ["violet", "cyan", "amber", "green", "pink", "blue"]
OTHER = "other models"


def chart(usage: reports.UsageOverTime) -> dict[str, Any]:
    """Rows for a stacked bar chart, one per day, and its series. Recharts reads a dotted
    `dataKey` as a path, so model ids ("vendor/model-1.5") are never keys: "m0", "m1"... are."""
    names = usage.models[: len(COLORS)]
    if len(usage.models) > len(COLORS):
        names = [*usage.models[: len(COLORS) - 1], OTHER]
    key = {model: f"m{i}" for i, model in enumerate(names)}
    rows = []
    for day in usage.days:
        row: dict[str, Any] = {"day": day.day.strftime("%d %b")}
        for model, spent in day.credits.items():
            slot = key.get(model, key.get(OTHER, ""))
            row[slot] = row.get(slot, 0) + spent
        rows.append(row)
    series = [
        {"key": key[name], "name": name, "color": f"var(--{COLORS[i]}-9)"}
        for i, name in enumerate(names)
    ]
    return {"rows": rows, "series": series, "total": _spent(usage.total, usage.calls)}


def _credits(count: int) -> str:
    return f"{count} credit{'' if count == 1 else 's'}"


def _spent(credits: int, calls: int) -> str:
    return f"{_credits(credits)} in {calls} call{'' if calls == 1 else 's'}"


def _overview(session: Session, admin: User) -> dict[str, Any]:
    money = reports.revenue(session, actor=admin, days=DAYS)
    return {
        "usage": chart(reports.usage_over_time(session, actor=admin, days=DAYS)),
        "top": [
            {"id": t.user_id, "email": t.email, "credits": _credits(t.credits)}
            for t in reports.top_users(session, actor=admin, days=DAYS)
        ],
        "revenue": (
            f"${money.cents / 100:,.2f} from {money.payments} payment(s), "
            f"{money.refunds} refund(s), last {DAYS} days"
        ),
        "revenue_days": [
            {
                "day": d.day.strftime("%d %b"),
                "paid": round(d.paid_cents / 100, 2),
                "refunded": round(d.refunded_cents / 100, 2),
            }
            for d in reports.revenue_by_day(session, actor=admin, days=DAYS)
        ],
    }


def _account(session: Session, admin: User, user_id: int, email: str) -> dict[str, Any]:
    if email:
        user_id = reports.find_user_id(session, actor=admin, email=email)
    usage = reports.usage_over_time(session, actor=admin, days=DAYS, user_id=user_id)
    return {"id": user_id, "email": usage.email or "", **chart(usage)}


class AdminReportsState(SessionState):
    usage: list[dict[str, Any]] = []
    usage_series: list[dict[str, str]] = []
    top: list[dict[str, Any]] = []
    revenue: str = ""
    revenue_days: list[dict[str, Any]] = []
    # The account whose usage is charted on its own (0: nobody picked yet).
    picked_id: int = 0
    picked_email: str = ""
    picked_total: str = ""
    picked_usage: list[dict[str, Any]] = []
    picked_series: list[dict[str, str]] = []

    @rx.var
    def any_revenue(self) -> bool:
        return any(d["paid"] or d["refunded"] for d in self.revenue_days)

    @rx.event
    async def load_reports(self):  # type: ignore[no-untyped-def]
        try:
            found = await run_service(as_signed_in, self.token, _overview)
        except Exception as e:  # non-admins: the service refused them
            return rx.toast.error(user_message(e))
        self.usage, self.usage_series = found["usage"]["rows"], found["usage"]["series"]
        self.top, self.revenue = found["top"], found["revenue"]
        self.revenue_days = found["revenue_days"]
        if self.picked_id:
            return await self._pick(self.picked_id, "")
        return None

    @rx.event
    async def show_user(self, user_id: int):  # type: ignore[no-untyped-def]
        return await self._pick(int(user_id), "")

    @rx.event
    async def find_user(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        email = str(form.get("email", "")).strip()[:320]
        if not email:
            return rx.toast.error("Type the account's email address.")
        return await self._pick(0, email)

    @rx.event
    def clear_user(self) -> None:
        self.picked_id, self.picked_email, self.picked_total = 0, "", ""
        self.picked_usage, self.picked_series = [], []

    async def _pick(self, user_id: int, email: str):  # type: ignore[no-untyped-def]
        try:
            found = await run_service(
                as_signed_in, self.token, lambda s, admin: _account(s, admin, user_id, email)
            )
        except Exception as e:  # unknown account, or not an admin
            return rx.toast.error(user_message(e))
        self.picked_id, self.picked_email = int(found["id"]), str(found["email"])
        self.picked_usage, self.picked_series = found["rows"], found["series"]
        self.picked_total = found["total"]
        return None

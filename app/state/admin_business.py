"""`/admin` business metrics: the cards and the generations-per-user chart.

The figures come from app/services/billing/business.py, which refuses anyone but an admin;
this only words them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import reflex as rx
from sqlmodel import Session

from app.services.billing import business
from app.services.core.models import User
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

DAYS = 30


def _percent(ratio: business.Ratio, of: str) -> tuple[str, str]:
    if ratio.percent is None:
        return "–", f"no {of} yet"
    return f"{ratio.percent:.1f}%", f"{ratio.part} of {ratio.whole} {of}"


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def _first(found: business.TimeToFirst) -> str:
    return f"median over {found.reached} of {found.accounts} new accounts (last {DAYS} days)"


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def cards(m: business.BusinessMetrics) -> list[dict[str, str]]:
    conversion, conversion_detail = _percent(m.conversion, "accounts")
    recent, recent_detail = _percent(m.recent_conversion, f"sign-ups in the last {DAYS} days")
    lora, lora_detail = _percent(m.lora_completion, "finished trainings")
    return [
        {"label": "MRR", "value": f"${m.mrr_cents / 100:,.2f}", "detail": "live Pro subscriptions"},
        {
            "label": "Active Pro subscriptions",
            "value": str(m.pro_subscriptions),
            "detail": "active, trialing or past due",
        },
        {"label": "Free → Pro", "value": conversion, "detail": conversion_detail},
        {"label": f"Free → Pro, last {DAYS} days", "value": recent, "detail": recent_detail},
        {
            "label": "Time to first analysis",
            "value": _duration(m.first_analysis.median),
            "detail": _first(m.first_analysis),
        },
        {
            "label": "Time to first generation",
            "value": _duration(m.first_generation.median),
            "detail": _first(m.first_generation),
        },
        {"label": "LoRA completion", "value": lora, "detail": lora_detail},
        {
            "label": "Generations per user",
            "value": _number(m.generations_mean),
            "detail": (
                f"mean; median {_number(m.generations_median)}, over {m.active_users} active "
                f"accounts (last {DAYS} days)"
            ),
        },
    ]


def _load(session: Session, admin: User) -> dict[str, Any]:
    found = business.business_metrics(session, actor=admin, days=DAYS)
    return {
        "cards": cards(found),
        "histogram": [{"runs": k, "accounts": n} for k, n in found.generations_histogram],
        "active": found.active_users,
    }


class AdminBusinessState(SessionState):
    metrics: list[dict[str, str]] = []
    histogram: list[dict[str, Any]] = []
    active_users: int = 0

    @rx.event
    async def load_business(self):  # type: ignore[no-untyped-def]
        try:
            found = await run_service(as_signed_in, self.token, _load)
        except Exception as e:  # non-admins: the service refused them
            return rx.toast.error(user_message(e))
        self.metrics, self.histogram = found["cards"], found["histogram"]
        self.active_users = int(found["active"])
        return None

"""`/admin` users: list, search, change roles, disable; credits and prices. Every handler
re-checks the role. The reports live in AdminReportsState (app/state/admin_reports.py)."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx

from app import routes
from app.services.accounts import users
from app.services.accounts.auth import require_role, user_for_token
from app.services.billing import billing, credits, pricing
from app.services.core.db import session_scope
from app.services.core.errors import InvalidInputError
from app.services.core.models import Role
from app.state.admin_business import AdminBusinessState
from app.state.admin_catalogue import AdminCatalogueState
from app.state.admin_reports import AdminReportsState
from app.state.base import run_service, user_message
from app.state.session import SessionState


def _rows(token: str, query: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        actor = user_for_token(session, token)
        return [
            {
                "id": r.id,
                "email": r.email,
                "name": r.display_name,
                "role": r.role,
                "active": r.is_active,
                "created": r.created_at.strftime("%d %b %Y"),
            }
            for r in users.list_users(session, actor=actor, query=query)
        ]


def _adjust(token: str, email: str, amount: int, reason: str, direction: str) -> tuple[str, int]:
    with session_scope() as session:
        actor = user_for_token(session, token)
        target = users.find_by_email(session, actor=actor, email=email)
        assert target.id is not None  # find_by_email returns stored accounts only
        fn = credits.grant if direction == "grant" else credits.revoke
        fn(
            session,
            user_id=target.id,
            amount=amount,
            reason=reason,
            actor=actor,
            idempotency_key=f"admin:{direction}:{uuid.uuid4().hex}",
        )
        return target.email, credits.balance(session, user_id=target.id)


def _prices_and_payments(token: str) -> dict[str, Any]:
    with session_scope() as session:
        actor = user_for_token(session, token)
        require_role(actor, Role.admin)
        prices = [
            {"key": p.key, "credits": str(p.credits), "custom": p.custom}
            for p in pricing.list_prices(session)
        ]
        payments = [
            {
                "when": p.created_at.strftime("%d %b %Y %H:%M"),
                "user": str(p.user_id),
                "credits": str(p.credits),
                "amount": f"{p.amount_cents / 100:.2f} {p.currency.upper()}",
                "status": str(p.status),
            }
            for p in billing.payments_log(session, actor=actor, limit=50)
        ]
        return {"prices": prices, "payments": payments}


def _set_price(token: str, key: str, credits_text: str) -> None:
    try:
        amount = int(credits_text.strip())
    except ValueError as e:
        raise InvalidInputError("A price is a whole number of credits.") from e
    with session_scope() as session:
        pricing.set_price(session, actor=user_for_token(session, token), key=key, credits=amount)


def _change_role(token: str, user_id: int, role: str) -> str:
    with session_scope() as session:
        target = users.change_role(
            session, actor=user_for_token(session, token), user_id=user_id, role=role
        )
        return target.email


def _set_active(token: str, user_id: int, active: bool) -> str:
    with session_scope() as session:
        target = users.set_active(
            session, actor=user_for_token(session, token), user_id=user_id, active=active
        )
        return target.email


class AdminState(SessionState):
    rows: list[dict[str, Any]] = []
    query: str = ""
    prices: list[dict[str, Any]] = []
    payments: list[dict[str, str]] = []

    @rx.event
    async def load_admin(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        try:
            self.rows = await run_service(_rows, self.token, self.query)
            money = await run_service(_prices_and_payments, self.token)
        except Exception as e:  # non-admins land here: the service refused them
            return [rx.redirect(routes.HOME), rx.toast.error(user_message(e))]
        self.prices, self.payments = money["prices"], money["payments"]
        return [
            AdminReportsState.load_reports,
            AdminBusinessState.load_business,
            AdminCatalogueState.load_catalogue,
        ]

    @rx.event
    async def save_price(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        key = str(form.get("key", ""))
        try:
            await run_service(_set_price, self.token, key, str(form.get("credits", "")))
        except Exception as e:  # bad input and permissions come back as messages
            return rx.toast.error(user_message(e))
        money = await run_service(_prices_and_payments, self.token)
        self.prices = money["prices"]
        return rx.toast.success(f"Price saved: {key}.")

    @rx.event
    async def adjust_credits(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        try:
            amount = int(str(form.get("amount", "")).strip())
        except ValueError:
            return rx.toast.error("The amount must be a whole number of credits.")
        direction = "revoke" if form.get("direction") == "revoke" else "grant"
        try:
            email, balance = await run_service(
                _adjust,
                self.token,
                str(form.get("email", "")),
                amount,
                str(form.get("reason", "")),
                direction,
            )
        except Exception as e:  # bad input and permissions come back as messages
            return rx.toast.error(user_message(e))
        await self._refresh()
        verb = "Granted" if direction == "grant" else "Revoked"
        return [
            AdminReportsState.load_reports,
            rx.toast.success(f"{verb} {amount} credits: {email} now has {balance}."),
        ]

    @rx.event
    async def search(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.query = str(form.get("q", ""))[:200]
        try:
            self.rows = await run_service(_rows, self.token, self.query)
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return None

    @rx.event
    async def change_role(self, user_id: int, role: str):  # type: ignore[no-untyped-def]
        try:
            email = await run_service(_change_role, self.token, int(user_id), role)
            self.rows = await run_service(_rows, self.token, self.query)
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return rx.toast.success(f"{email} is now {role}.")

    @rx.event
    async def toggle_active(self, user_id: int, active: bool):  # type: ignore[no-untyped-def]
        try:
            email = await run_service(_set_active, self.token, int(user_id), not active)
            self.rows = await run_service(_rows, self.token, self.query)
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return rx.toast.success(f"{email} {'disabled' if active else 'enabled'}.")

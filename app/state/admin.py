"""`/admin` users: list, search, change roles, disable. Every handler re-checks the role."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services import users
from app.services.auth import user_for_token
from app.services.db import session_scope
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

    @rx.event
    async def load_admin(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        try:
            self.rows = await run_service(_rows, self.token, self.query)
        except Exception as e:  # non-admins land here: the service refused them
            return [rx.redirect(routes.HOME), rx.toast.error(user_message(e))]
        return None

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

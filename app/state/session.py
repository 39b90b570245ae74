"""Who is signed in. Every page's on_load goes through here; roles are checked on the server."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.services import auth, credits
from app.services.db import session_scope
from app.services.models import Role
from app.settings import get_settings
from app.state.base import run_service

SESSION_COOKIE = "jsoncraft_session"


def _lookup(token: str) -> dict[str, str] | None:
    with session_scope() as session:
        user = auth.user_for_token(session, token)
        if user is None:
            return None
        assert user.id is not None
        return {
            "id": str(user.id),
            "email": user.email,
            "name": user.display_name,
            "role": user.role,
            "credits": str(credits.balance(session, user_id=user.id)),
        }


class SessionState(rx.State):
    # Set from the browser, so it can't be HttpOnly; it is Secure whenever the app is on https,
    # and only the token's hash is stored server-side.
    token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        path="/",
        max_age=get_settings().session_ttl_hours * 3600,
        same_site="lax",
        secure=get_settings().app_url.startswith("https://"),
    )
    user_id: str = ""
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    credits: int = 0

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.user_id)

    @rx.var
    def is_admin(self) -> bool:
        # Only decides what the menu shows; every admin handler re-checks the role in the service.
        return self.user_role == Role.admin.value

    @rx.var
    def initials(self) -> str:
        return (self.user_name or self.user_email or "?")[:1].upper()

    async def _refresh(self) -> None:
        found = await run_service(_lookup, self.token) if self.token else None
        if found is None:
            self.user_id = self.user_email = self.user_name = self.user_role = ""
            self.credits = 0
            if self.token:
                self.token = ""
            return
        self.user_id, self.user_email = found["id"], found["email"]
        self.user_name, self.user_role = found["name"], found["role"]
        self.credits = int(found["credits"])

    @rx.event
    async def load_session(self) -> None:
        await self._refresh()

    @rx.event
    async def require_user(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            return rx.redirect(routes.login_url(self.router.url.path or routes.HOME))
        return None

    @rx.event
    async def sign_out(self):  # type: ignore[no-untyped-def]
        token = self.token
        await run_service(_close, token)
        self.token = ""
        self.user_id = self.user_email = self.user_name = self.user_role = ""
        return [rx.redirect(routes.LOGIN), rx.toast.info("You are signed out.")]


def _close(token: str) -> None:
    with session_scope() as session:
        auth.close_session(session, token=token)

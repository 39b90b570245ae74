"""Who is signed in. Every page's on_load goes through here; roles are checked on the server.

The session cookie is HttpOnly: only the HTTP endpoints in app/api/auth.py and oauth.py set or
clear it, and page scripts never see it. The state reads it here, on the server, from the
Cookie header of the websocket handshake (`router.headers.cookie`, which Reflex never sends to
the browser). That header is fixed for the life of a connection, so every sign-in or sign-out
ends with a full page load: the new connection carries the new cookie.
"""

from __future__ import annotations

import reflex as rx

from app import routes
from app.services.accounts import auth
from app.services.accounts.session_cookie import token_from_cookie_header
from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.models import Role
from app.state.base import run_service


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
    user_id: str = ""
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    credits: int = 0

    @property
    def token(self) -> str:
        """This connection's session token, from its cookie; never a var, never sent out."""
        return token_from_cookie_header(self.router.headers.cookie) or ""

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
        token = self.token
        found = await run_service(_lookup, token) if token else None
        if found is None:
            self.user_id = self.user_email = self.user_name = self.user_role = ""
            self.credits = 0
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

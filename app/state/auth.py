"""Sign-in, sign-up and account actions."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import reflex as rx

from app import routes
from app.services import auth, google_auth, rate_limits
from app.services.db import session_scope
from app.settings import get_settings
from app.state.base import run_service, user_message
from app.state.session import SessionState


def _sign_in(email: str, password: str, client: str, agent: str) -> str:
    with session_scope() as session:
        return auth.authenticate(
            session, email=email, password=password, client=client, user_agent=agent
        ).token


def _sign_up(email: str, password: str, name: str, agent: str) -> str:
    with session_scope() as session:
        user = auth.create_user(session, email=email, password=password, display_name=name)
        return auth.open_session(session, user=user, user_agent=agent)


def _sign_out_everywhere(user_id: int) -> int:
    with session_scope() as session:
        return auth.close_all_sessions(session, user_id=user_id)


class AuthState(SessionState):
    error: str = ""
    busy: bool = False
    google_url: str = ""  # empty when Google sign-in isn't configured

    def _next_path(self) -> str:
        return routes.safe_next(self.router.url.query_parameters.get("next"))

    @rx.event
    async def load_auth_page(self):  # type: ignore[no-untyped-def]
        params = self.router.url.query_parameters
        code = params.get("error", "")
        self.error = google_auth.error_message(code) if code else ""
        settings = get_settings()
        self.google_url = (
            f"{settings.api_url}/api/auth/google/start?{urlencode({'next': self._next_path()})}"
            if google_auth.google_enabled(settings)
            else ""
        )
        await self._refresh()
        if self.user_id:
            return rx.redirect(self._next_path())
        return None

    @rx.event
    def start_google(self):  # type: ignore[no-untyped-def]
        # A full page load: the SPA router would treat the same-origin /api URL as a page.
        if not self.google_url:
            return rx.toast.error("Google sign-in isn't set up here.")
        return rx.call_script(f"window.location.assign({json.dumps(self.google_url)})")

    @rx.event
    async def submit_sign_in(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.error, self.busy = "", True
        yield
        try:
            await rate_limits.acheck(
                "sign_in", ip=self.router.session.client_ip, email=str(form.get("email", ""))
            )
            self.token = await run_service(
                _sign_in,
                str(form.get("email", "")),
                str(form.get("password", "")),
                self.router.session.client_ip,
                self.router.headers.user_agent,
            )
        except Exception as e:  # every failure becomes a message on the form
            self.error = user_message(e)
            self.busy = False
            return
        await self._refresh()
        self.busy = False
        yield rx.redirect(self._next_path())
        yield rx.toast.success(f"Welcome back, {self.user_name}.")

    @rx.event
    async def submit_sign_up(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.error, self.busy = "", True
        yield
        password = str(form.get("password", ""))
        if password != str(form.get("confirm", "")):
            self.error, self.busy = "The two passwords don't match.", False
            return
        try:
            self.token = await run_service(
                _sign_up,
                str(form.get("email", "")),
                password,
                str(form.get("name", "")),
                self.router.headers.user_agent,
            )
        except Exception as e:  # every failure becomes a message on the form
            self.error = user_message(e)
            self.busy = False
            return
        await self._refresh()
        self.busy = False
        yield rx.redirect(self._next_path())
        yield rx.toast.success("Your account is ready.")

    @rx.event
    async def sign_out_everywhere(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            yield rx.redirect(routes.LOGIN)
            return
        count = await run_service(_sign_out_everywhere, int(self.user_id))
        self.token = ""
        self.user_id = self.user_email = self.user_name = self.user_role = ""
        yield rx.redirect(routes.LOGIN)
        yield rx.toast.info(f"Signed out of {count} session{'s' if count != 1 else ''}.")

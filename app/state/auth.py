"""The sign-in and sign-up pages: what they show before and after their form is posted.

The forms post to app/api/auth.py and come back with a full page load. A failed post leaves a
notice cookie (message and typed values); the page shows it once, here.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec

from app import routes
from app.services.accounts import google_auth
from app.services.accounts.session_cookie import NOTICE_COOKIE, open_notice, read_cookie
from app.settings import get_settings
from app.state.session import SessionState


def _refill_script(values: dict[str, str]) -> str:
    """Put typed values back in the form's (uncontrolled) fields, by id. The fields may mount
    after this event arrives (the page's first events can outrun it), so it waits for them a
    little; a field someone has typed in meanwhile is left alone."""
    return (
        f"(function refill(values, tries) {{"
        f" const pending = Object.entries(values).filter(([id, value]) => {{"
        f"  const field = document.getElementById(id);"
        f"  if (field && !field.value) field.value = value;"
        f"  return !field; }});"
        f" if (pending.length && tries > 0)"
        f"  setTimeout(() => refill(Object.fromEntries(pending), tries - 1), 50);"
        f"}})({json.dumps(values)}, 60)"
    )


class AuthState(SessionState):
    error: str = ""
    google_url: str = ""  # empty when Google sign-in isn't configured
    next_path: str = routes.HOME  # where the form's post goes on to (a hidden field)
    _notice_seen: str = ""  # the last notice shown: a reload or a revisit doesn't repeat it

    def _take_notice(self) -> EventSpec | None:
        """The form's notice from the cookie, once: the message, and what was typed back."""
        notice = open_notice(read_cookie(self.router.headers.cookie, NOTICE_COOKIE), get_settings())
        page = (self.router.url.path or "").rstrip("/")
        if notice is None or notice.page != page or notice.id == self._notice_seen:
            return None
        self._notice_seen = notice.id
        if notice.kind == "info":
            return rx.toast.info(notice.text)
        self.error = notice.text
        fields = {"email": notice.email, "name": notice.name if page == routes.SIGNUP else ""}
        return rx.call_script(_refill_script({k: v for k, v in fields.items() if v}))

    @rx.event
    async def load_auth_page(self):  # type: ignore[no-untyped-def]
        params = self.router.url.query_parameters
        self.next_path = routes.safe_next(params.get("next"))
        code = params.get("error", "")
        self.error = google_auth.error_message(code) if code else ""
        settings = get_settings()
        self.google_url = (
            f"{settings.api_url}/api/auth/google/start?{urlencode({'next': self.next_path})}"
            if google_auth.google_enabled(settings)
            else ""
        )
        await self._refresh()
        if self.user_id:
            return rx.redirect(self.next_path)
        return self._take_notice()

    @rx.event
    def start_google(self):  # type: ignore[no-untyped-def]
        # A full page load: the SPA router would treat the same-origin /api URL as a page.
        if not self.google_url:
            return rx.toast.error("Google sign-in isn't set up here.")
        return rx.call_script(f"window.location.assign({json.dumps(self.google_url)})")

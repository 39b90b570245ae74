"""`/admin/system` recent errors (searchable by reference, paginated) and the email outbox
(filter by status, open one to read it). Admins only: every service refuses others."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from app.services.core.models import User
from app.services.ops import email_outbox, error_log
from app.state import admin_system_views as views
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

EMAIL_FILTERS = ["all", *email_outbox.STATUSES]


def _errors(session: Session, admin: User, query: str, page: int) -> dict[str, Any]:
    found = error_log.search_errors(session, actor=admin, query=query, page=page)
    return {
        "rows": [views.error(e) for e in found.rows],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
    }


def _emails(session: Session, admin: User, status: str, page: int) -> dict[str, Any]:
    found = email_outbox.list_emails(session, actor=admin, status=status, page=page)
    return {
        "rows": [views.email_row(r) for r in found.rows],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
    }


def _email(session: Session, admin: User, email_id: int) -> dict[str, str]:
    return views.email_detail(email_outbox.read_email(session, actor=admin, email_id=email_id))


class AdminSystemLogState(SessionState):
    errors: list[dict[str, str]] = []
    error_query: str = ""
    error_total: int = 0
    error_page: int = 1
    error_pages: int = 1
    emails: list[dict[str, str]] = []
    email_filter: str = "all"
    email_total: int = 0
    email_page: int = 1
    email_pages: int = 1
    opened: dict[str, str] = {}

    @rx.var
    def email_open(self) -> bool:
        return bool(self.opened)

    @rx.event
    async def load_logs(self):  # type: ignore[no-untyped-def]
        return await self._errors(self.error_page) or await self._emails(self.email_page)

    @rx.event
    async def search_errors(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        self.error_query = str(form.get("q", ""))[: error_log.MAX_QUERY_CHARS]
        return await self._errors(1)

    @rx.event
    async def error_page_by(self, step: int):  # type: ignore[no-untyped-def]
        return await self._errors(self.error_page + int(step))

    @rx.event
    async def filter_emails(self, status: str):  # type: ignore[no-untyped-def]
        self.email_filter = status if status in EMAIL_FILTERS else "all"
        return await self._emails(1)

    @rx.event
    async def email_page_by(self, step: int):  # type: ignore[no-untyped-def]
        return await self._emails(self.email_page + int(step))

    @rx.event
    async def open_email(self, email_id: str):  # type: ignore[no-untyped-def]
        if not str(email_id).isdigit():
            return rx.toast.error("That email is not in the outbox any more.")
        try:
            self.opened = await run_service(
                as_signed_in, self.token, lambda s, admin: _email(s, admin, int(email_id))
            )
        except Exception as e:  # deleted meanwhile, or not an admin
            return rx.toast.error(user_message(e))
        return None

    @rx.event
    def close_email(self) -> None:
        self.opened = {}

    @rx.event
    def set_email_open(self, is_open: bool) -> None:
        """The dialog's own close (Escape, a click outside) clears the opened email."""
        if not is_open:
            self.opened = {}

    async def _errors(self, page: int):  # type: ignore[no-untyped-def]
        query = self.error_query
        try:
            found = await run_service(
                as_signed_in, self.token, lambda s, admin: _errors(s, admin, query, page)
            )
        except Exception as e:  # not an admin, or the database is down
            return rx.toast.error(user_message(e))
        self.errors, self.error_total = found["rows"], found["total"]
        self.error_page, self.error_pages = found["page"], found["pages"]
        return None

    async def _emails(self, page: int):  # type: ignore[no-untyped-def]
        status = "" if self.email_filter == "all" else self.email_filter
        try:
            found = await run_service(
                as_signed_in, self.token, lambda s, admin: _emails(s, admin, status, page)
            )
        except Exception as e:  # not an admin, or the database is down
            return rx.toast.error(user_message(e))
        self.emails, self.email_total = found["rows"], found["total"]
        self.email_page, self.email_pages = found["page"], found["pages"]
        return None

"""`/projects/[project_id]/uploads`: the test uploader and the upload log (filters, load more,
delete). The owner only: anyone else's project is "not found"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from app import routes
from app.services.uploads import dashboard
from app.services.uploads.records import STATUSES, UploadFilters
from app.settings import get_settings
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

FILTER_KEYS = ("name", "type", "status", "date_from", "date_to")
NO_FILTERS = dict.fromkeys(FILTER_KEYS, "")
# The type filter's choices: (value for the listing, label).
TYPE_CHOICES = (
    ("image/*", "Images"),
    ("video/*", "Video"),
    ("audio/*", "Audio"),
    ("application/pdf", "PDF"),
    ("text/*", "Text"),
)
NO_KEY_NOTE = "This project has no live key with the upload scope: create one on the Overview tab."


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _filters(raw: dict[str, str]) -> UploadFilters:
    """The form's values as listing filters; a date range covers whole days (the end day too)."""
    until = _day(raw.get("date_to", ""))
    return UploadFilters(
        status=raw.get("status") if raw.get("status") in STATUSES else None,
        type=raw.get("type") if raw.get("type") in dict(TYPE_CHOICES) else None,
        name=raw.get("name", "").strip()[:200] or None,
        created_after=_day(raw.get("date_from", "")),
        created_before=until + timedelta(days=1) if until else None,
    )


def _page(token: str, project_id: int, raw: dict[str, str], cursor: str | None) -> dict[str, Any]:
    def run(session: Any, user: Any) -> dict[str, Any]:
        project, _ = dashboard.owner_access(session, owner=user, project_id=project_id)
        page = dashboard.log_page(
            session, owner=user, project_id=project_id, filters=_filters(raw), cursor=cursor
        )
        return {
            "name": project.name,
            "rows": [r.as_dict() for r in page.rows],
            "next": page.next_cursor or "",
        }

    return as_signed_in(token, run)


def _client_token(token: str, project_id: int) -> str:
    def run(session: Any, user: Any) -> str:
        minted = dashboard.uploader_token(session, owner=user, project_id=project_id)
        return minted.token if minted else ""

    return as_signed_in(token, run)


def _delete(token: str, project_id: int, upload_id: str) -> str:
    return as_signed_in(
        token,
        lambda session, user: dashboard.delete_as_owner(
            session, owner=user, project_id=project_id, upload_id=upload_id
        ),
    )


class ProjectUploadsState(SessionState):
    project_id: int = 0
    project_name: str = ""
    not_found: str = ""
    rows: list[dict[str, Any]] = []
    next_cursor: str = ""
    loading: bool = True
    error: str = ""
    filters: dict[str, str] = dict(NO_FILTERS)
    client_token: str = ""  # short-lived, upload-only: what the embed element sends
    deleting: dict[str, str] = {}  # the row whose delete awaits confirmation

    @rx.var
    def api_url(self) -> str:
        return get_settings().api_url

    @rx.var
    def filtered(self) -> bool:
        return any(self.filters.values())

    async def _list(self, cursor: str | None) -> dict[str, Any]:
        return await run_service(_page, self.token, self.project_id, dict(self.filters), cursor)

    async def _reload(self) -> None:
        self.loading, self.error = True, ""
        try:
            found = await self._list(None)
            self.rows, self.next_cursor = found["rows"], found["next"]
        except Exception as e:  # shown above the log instead of a blank list
            self.rows, self.next_cursor, self.error = [], "", user_message(e)
        self.loading = False

    async def _mint(self) -> None:
        self.client_token = await run_service(_client_token, self.token, self.project_id)

    @rx.event
    async def load_uploads(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            return rx.redirect(routes.login_url(self.router.url.path or routes.PROJECTS))
        self.rows, self.next_cursor, self.deleting, self.client_token = [], "", {}, ""
        self.filters, self.loading = dict(NO_FILTERS), True
        try:
            self.project_id = int(str(self.router.page.params.get("project_id", "")))
            found = await self._list(None)
            await self._mint()
        except Exception as e:  # someone else's project, or no such one: one message
            self.not_found = (
                "That project doesn't exist." if isinstance(e, ValueError) else user_message(e)
            )
            self.project_id, self.project_name, self.loading = 0, "", False
            return None
        self.not_found, self.project_name = "", found["name"]
        self.rows, self.next_cursor, self.loading = found["rows"], found["next"], False
        return None

    @rx.var
    def uploader_note(self) -> str:
        return NO_KEY_NOTE if self.project_id and not self.client_token else ""

    @rx.event
    def set_filter(self, key: str, value: str) -> None:
        if key in FILTER_KEYS:
            self.filters = {**self.filters, key: str(value)[:200]}

    @rx.event
    async def apply_filters(self, form: dict[str, Any] | None = None) -> None:
        """The form's own values: typing is debounced, so Search can beat the last keystroke."""
        for key in ("name", "date_from", "date_to"):
            if isinstance(form, dict) and isinstance(form.get(key), str):
                self.set_filter(key, form[key])
        await self._reload()

    @rx.event
    async def choose_filter(self, key: str, value: str) -> None:
        """Selects (type, status) apply at once; "all" clears them."""
        self.set_filter(key, "" if value == "all" else value)
        await self._reload()

    @rx.event
    async def clear_filters(self) -> None:
        self.filters = dict(NO_FILTERS)
        await self._reload()

    @rx.event
    async def load_more(self) -> None:
        if not self.next_cursor:
            return
        try:
            found = await self._list(self.next_cursor)
        except Exception as e:
            self.error = user_message(e)
            return
        self.rows, self.next_cursor = self.rows + found["rows"], found["next"]

    @rx.event
    async def batch_done(self, _uploads: list[dict[str, Any]]) -> None:
        """The test uploader finished a batch: show it in the log, and take a fresh token."""
        await self._mint()
        await self._reload()

    @rx.event
    async def batch_failed(self, _message: str) -> None:
        """The element shows the message; a new token lets the next try start clean."""
        await self._mint()

    @rx.event
    def ask_delete(self, row: dict[str, Any]) -> None:
        self.deleting = {"id": str(row.get("id", "")), "name": str(row.get("name", ""))}

    @rx.event
    def dialog_toggled(self, is_open: bool) -> None:
        if not is_open:  # Escape, "Keep it", or the dialog closing after "Delete"
            self.deleting = {}

    @rx.event
    async def confirm_delete(self, upload_id: str):  # type: ignore[no-untyped-def]
        self.deleting = {}
        if not isinstance(upload_id, str) or not upload_id:
            return None
        try:
            name = await run_service(_delete, self.token, self.project_id, upload_id)
        except Exception as e:
            return rx.toast.error(user_message(e))
        await self._reload()
        return rx.toast.success(f"Deleted {name}.")

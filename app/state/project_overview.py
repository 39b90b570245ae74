"""`/projects/<id>`: the project's name, upload rules and usage against the plan; rename and
delete. Keys are ProjectKeysState's (app/state/project_keys.py), a substate of this one."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.core.models import Project
from app.services.core.units import format_bytes
from app.services.uploads import project_config as config
from app.services.uploads.ownership import get_owned_project
from app.services.uploads.project_usage import Usage, project_usage
from app.services.uploads.projects import delete_project, rename_project
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

MB = 1024 * 1024


def _percent(used: int, limit: int) -> int:
    return min(100, round(100 * used / limit)) if limit > 0 else 0


def usage_rows(usage: Usage, project: Project) -> list[dict[str, Any]]:
    """The usage bars: what is used, out of what the plan allows."""
    return [
        {
            "label": "Uploads this month (all projects)",
            "value": f"{usage.uploads_this_month:,} of {usage.monthly_uploads:,}",
            "percent": _percent(usage.uploads_this_month, usage.monthly_uploads),
        },
        {
            "label": "Largest file this project accepts",
            "value": f"{format_bytes(project.max_file_size)} of "
            f"{format_bytes(usage.max_upload_file_size)} plan cap",
            "percent": _percent(project.max_file_size, usage.max_upload_file_size),
        },
        {
            "label": "Projects",
            "value": f"{usage.projects} of {usage.max_projects}",
            "percent": _percent(usage.projects, usage.max_projects),
        },
    ]


def form_values(project: Project) -> dict[str, str]:
    """The rules as the form's text fields hold them."""
    mb = project.max_file_size / MB
    return {
        "types": ", ".join(project.allowed_types),
        "max_mb": f"{mb:.2f}".rstrip("0").rstrip("."),
        "max_files": str(project.max_files_per_upload),
        "expire_days": "" if project.expire_after_days is None else str(project.expire_after_days),
        "acl": project.acl,
    }


def _snapshot(session: Any, user: Any, project: Project) -> dict[str, Any]:
    usage = project_usage(session, owner=user, project=project)
    return {
        "name": project.name,
        "form": form_values(project),
        "types": list(project.allowed_types),
        "usage": usage_rows(usage, project),
        "plan": usage.plan_name,
        "cap": format_bytes(usage.max_upload_file_size),
    }


def _load(token: str, project_id: int) -> dict[str, Any]:
    return as_signed_in(
        token,
        lambda s, u: _snapshot(s, u, get_owned_project(s, owner=u, project_id=project_id)),
    )


def _save(token: str, project_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    def save(session: Any, user: Any) -> dict[str, Any]:
        project = config.update_config(session, owner=user, project_id=project_id, changes=changes)
        return _snapshot(session, user, project)

    return as_signed_in(token, save)


def _rename(token: str, project_id: int, name: str) -> str:
    return as_signed_in(
        token, lambda s, u: rename_project(s, owner=u, project_id=project_id, name=name).name
    )


def _delete(token: str, project_id: int) -> str:
    return as_signed_in(token, lambda s, u: delete_project(s, owner=u, project_id=project_id).name)


def _number(text: str, field: str, message: str, kind: type[int] | type[float]) -> Any:
    try:
        value = kind(text.strip())
    except ValueError:
        raise config.ConfigFieldError(field, message) from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
        raise config.ConfigFieldError(field, message)
    return value


def form_changes(form: dict[str, str]) -> dict[str, Any]:
    """The form's text as the service's changes. Text that is not a number is refused here,
    for its field; the service checks everything else (the same check as the API's)."""
    size_mb = _number(
        form["max_mb"], "max_file_size", "Max file size is a number of MB, like 16 or 0.5.", float
    )
    max_files = _number(
        form["max_files"], "max_files_per_upload", "Max files per request is a whole number.", int
    )
    days = form["expire_days"].strip()
    expire = (
        _number(days, "expire_after_days", "Write a whole number of days, or leave it empty.", int)
        if days
        else None
    )
    return {
        "allowed_types": config.parse_types(form["types"]),
        "max_file_size": max(0, round(size_mb * MB)),
        "max_files_per_upload": max_files,
        "expire_after_days": expire,
        "acl": form["acl"],
    }


class ProjectState(SessionState):
    pid: int = 0  # the project shown ("project_id" is the route argument Reflex adds)
    project_name: str = ""
    not_found: str = ""
    loaded_route: str = ""
    plan_name: str = ""
    plan_cap: str = ""
    usage: list[dict[str, Any]] = []
    saved_types: list[str] = []
    form: dict[str, str] = {}
    field_error: str = ""  # which config field `config_error` is about
    config_error: str = ""
    saving: bool = False
    name_draft: str = ""
    renaming: bool = False
    delete_open: bool = False

    def _route_id(self) -> str:
        return str(self.router.page.params.get("project_id", ""))

    def _apply(self, snapshot: dict[str, Any]) -> None:
        self.project_name = snapshot["name"]
        self.form, self.saved_types = snapshot["form"], snapshot["types"]
        self.usage, self.plan_name, self.plan_cap = (
            snapshot["usage"],
            snapshot["plan"],
            snapshot["cap"],
        )
        self.field_error = self.config_error = ""

    @rx.event
    async def load_project(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        route = self._route_id()
        if not self.user_id:
            return rx.redirect(routes.login_url(routes.PROJECT_PREFIX + route))
        self.renaming = self.delete_open = False
        try:
            project_id = int(route)
            snapshot = await run_service(_load, self.token, project_id)
        except ValueError:
            self.pid, self.not_found, self.loaded_route = 0, "No such project.", route
            return None
        except Exception as e:  # another person's or a deleted project: one message
            self.pid, self.not_found, self.loaded_route = 0, user_message(e), route
            return None
        self.pid, self.not_found, self.loaded_route = project_id, "", route
        self._apply(snapshot)
        return None

    @rx.event
    def set_field(self, field: str, value: str) -> None:
        # Inputs are debounced: a change can arrive after the submit that already carried it,
        # and must not then clear that submit's error.
        if self.form.get(field) == value[:2000]:
            return
        self.form = {**self.form, field: value[:2000]}
        if self.field_error in (field, _FORM_TO_API.get(field, "")):
            self.field_error = self.config_error = ""

    @rx.event
    async def save_config(self, form_data: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self.pid or self.saving:
            return
        # What the inputs hold now (their debounced changes may still be on the way).
        typed = {f: str(form_data[f])[:2000] for f in _TEXT_FIELDS if f in form_data}
        self.form = {**self.form, **typed}
        try:
            changes = form_changes(self.form)
        except config.ConfigFieldError as e:
            self.field_error, self.config_error = e.field, e.message
            return
        self.saving = True
        yield
        try:
            snapshot = await run_service(_save, self.token, self.pid, changes)
        except config.ConfigFieldError as e:  # the form keeps what was typed
            self.field_error, self.config_error = e.field, e.message
            return
        except Exception as e:
            self.field_error, self.config_error = "", user_message(e)
            return
        finally:
            self.saving = False
        self._apply(snapshot)
        yield rx.toast.success("Upload rules saved.")

    @rx.event
    def start_rename(self) -> None:
        self.name_draft, self.renaming = self.project_name, True

    @rx.event
    def set_name_draft(self, value: str) -> None:
        self.name_draft = value[:200]

    @rx.event
    def cancel_rename(self) -> None:
        self.renaming = False

    @rx.event
    async def submit_rename(self, form_data: dict[str, Any]):  # type: ignore[no-untyped-def]
        self.name_draft = str(form_data.get("project_name", self.name_draft))[:200]
        try:
            self.project_name = await run_service(_rename, self.token, self.pid, self.name_draft)
        except Exception as e:  # empty or taken: keep the draft open
            return rx.toast.error(user_message(e))
        self.renaming = False
        return rx.toast.success("Project renamed.")

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = value

    @rx.event
    async def confirm_delete(self):  # type: ignore[no-untyped-def]
        try:
            name = await run_service(_delete, self.token, self.pid)
        except Exception as e:
            self.delete_open = False
            return rx.toast.error(user_message(e))
        self.delete_open, self.pid = False, 0
        return [rx.redirect(routes.PROJECTS), rx.toast.success(f"Deleted {name}.")]


_TEXT_FIELDS = ("types", "max_mb", "max_files", "expire_days")
# Form fields and the service's names for them, so an error is cleared when its field changes.
_FORM_TO_API = {
    "types": "allowed_types",
    "max_mb": "max_file_size",
    "max_files": "max_files_per_upload",
    "expire_days": "expire_after_days",
    "acl": "acl",
}

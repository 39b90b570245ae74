"""`/projects`: the person's upload projects, and a form to create one within their plan."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.core.errors import PlanLimitError
from app.services.uploads.projects import ProjectSummary, create_project, list_projects
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState


def project_row(summary: ProjectSummary) -> dict[str, Any]:
    keys, uploads = summary.key_count, summary.uploads_this_month
    return {
        "id": summary.id,
        "name": summary.name,
        "url": routes.project_url(summary.id),
        "created": summary.created_at.strftime("%d %b %Y"),
        "keys": f"{keys} {'key' if keys == 1 else 'keys'}",
        "uploads": f"{uploads:,} {'upload' if uploads == 1 else 'uploads'} this month",
    }


def _list(token: str) -> list[dict[str, Any]]:
    return as_signed_in(token, lambda s, u: [project_row(p) for p in list_projects(s, owner=u)])


def _create(token: str, name: str) -> int:
    def create(session: Any, user: Any) -> int:
        project = create_project(session, owner=user, name=name)
        assert project.id is not None
        return project.id

    return as_signed_in(token, create)


class ProjectsState(SessionState):
    projects: list[dict[str, Any]] = []
    projects_loaded: bool = False
    new_name: str = ""
    create_error: str = ""
    limit_reached: bool = False  # the error is the plan's project limit: offer the plans
    creating: bool = False

    @rx.event
    async def load_projects(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            return rx.redirect(routes.login_url(routes.PROJECTS))
        self.create_error, self.limit_reached = "", False
        try:
            self.projects = await run_service(_list, self.token)
        except Exception as e:  # the page still works; the toast says why the list is empty
            self.projects = []
            return rx.toast.error(user_message(e))
        finally:
            self.projects_loaded = True
        return None

    @rx.event
    def set_new_name(self, value: str) -> None:
        # Inputs are debounced: a change can arrive after the submit that already carried it.
        if value[:200] != self.new_name:
            self.new_name = value[:200]
            self.create_error, self.limit_reached = "", False

    @rx.event
    async def submit_project(self, form_data: dict[str, Any]):  # type: ignore[no-untyped-def]
        if self.creating:
            return
        # The form's own value: the input's debounced change may not have arrived yet.
        self.new_name = str(form_data.get("name", self.new_name))[:200]
        self.creating = True
        yield
        try:
            project_id = await run_service(_create, self.token, self.new_name)
        except Exception as e:  # over the plan, a taken or empty name: say so, keep the name
            self.create_error = user_message(e)
            self.limit_reached = isinstance(e, PlanLimitError)
            return
        finally:
            self.creating = False
        self.new_name = ""
        yield rx.redirect(routes.project_url(project_id))

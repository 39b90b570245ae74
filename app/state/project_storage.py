"""`/projects/[project_id]/storage`: the project's own bucket, its connection test, CORS.

Keys typed into the form go straight to the save handler (an uncontrolled form) and are never
kept in state or sent back: the page only knows whether keys are saved.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.core.errors import NotFoundError
from app.services.core.models import User
from app.services.uploads import bucket_check, buckets, cors
from app.services.uploads.ownership import get_owned_project
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

FIELDS = ("endpoint", "bucket", "region", "addressing", "cdn_base_url")


def _bucket_dict(view: buckets.BucketView | None) -> dict[str, Any]:
    if view is None:
        return {"has_bucket": False, "has_keys": False, "checked": ""}
    return {
        "has_bucket": True,
        "has_keys": view.has_keys,
        "checked": view.checked_at.strftime("%d %b %Y, %H:%M UTC") if view.checked_at else "",
        **{name: getattr(view, name) for name in FIELDS},
    }


def _load(token: str, project_id: int) -> dict[str, Any]:
    def run(session: Any, user: User) -> dict[str, Any]:
        project = get_owned_project(session, owner=user, project_id=project_id)
        return {"name": project.name, **_bucket_dict(buckets.bucket_view(project))}

    return as_signed_in(token, run)


def _save(token: str, project_id: int, form: dict[str, Any]) -> dict[str, Any]:
    def run(session: Any, user: User) -> dict[str, Any]:
        fields = {name: str(form.get(name) or "") for name in FIELDS}
        view = buckets.save_bucket(
            session,
            owner=user,
            project_id=project_id,
            access_key_id=str(form.get("access_key_id") or ""),
            secret_access_key=str(form.get("secret_access_key") or ""),
            **fields,
        )
        return _bucket_dict(view)

    return as_signed_in(token, run)


def _test(token: str, project_id: int) -> list[dict[str, str]]:
    def run(session: Any, user: User) -> list[dict[str, str]]:
        report = bucket_check.run_connection_test(session, owner=user, project_id=project_id)
        return [
            {"step": s.step, "status": s.status, "detail": s.detail, "code": s.code}
            for s in report.steps
        ]

    return as_signed_in(token, run)


def _remove(token: str, project_id: int) -> None:
    as_signed_in(token, lambda s, u: buckets.remove_bucket(s, owner=u, project_id=project_id))


class ProjectStorageState(SessionState):
    project_id: int = 0
    project_name: str = ""
    storage_loaded: bool = False
    not_found: bool = False
    bucket: dict[str, Any] = {"has_bucket": False, "has_keys": False, "checked": ""}
    form_version: int = 0  # remounts the form so its fields show the saved values
    replacing_keys: bool = False
    form_error: str = ""
    steps: list[dict[str, str]] = []
    testing: bool = False
    origins_text: str = ""
    cors_error: str = ""
    cors_json: str = ""

    @rx.var
    def cors_command(self) -> str:
        return cors.aws_cli_command(
            bucket=str(self.bucket.get("bucket") or "YOUR-BUCKET"),
            endpoint=str(self.bucket.get("endpoint") or ""),
        )

    @rx.var
    def show_key_fields(self) -> bool:
        return self.replacing_keys or not self.bucket.get("has_keys")

    @rx.event
    async def load_storage(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        self.steps, self.form_error, self.replacing_keys = [], "", False
        try:
            self.project_id = int(str(self.router.page.params.get("project_id", "")))
            found = await run_service(_load, self.token, self.project_id)
        except (ValueError, NotFoundError):  # a bad id, or another person's project
            self.not_found = self.storage_loaded = True
            return None
        except Exception as e:
            self.not_found = self.storage_loaded = True
            return rx.toast.error(user_message(e))
        self.not_found = False
        self.project_name = found.pop("name")
        self._set_bucket(found)
        self.origins_text = "\n".join(cors.default_origins())
        self._render_cors()
        self.storage_loaded = True
        return None

    def _set_bucket(self, found: dict[str, Any]) -> None:
        self.bucket = found
        self.form_version += 1

    def _render_cors(self) -> None:
        try:
            self.cors_json = cors.cors_json(cors.parse_origins(self.origins_text))
            self.cors_error = ""
        except Exception as e:
            self.cors_error = user_message(e)

    @rx.event
    async def save_bucket(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        try:
            saved = await run_service(_save, self.token, self.project_id, form)
        except Exception as e:  # bad input: the form keeps what was typed, the error says why
            self.form_error = user_message(e)
            return None
        self.form_error, self.replacing_keys, self.steps = "", False, []
        self._set_bucket(saved)
        return rx.toast.success("Bucket saved. Run “Test connection” to check it.")

    @rx.event
    def start_replacing_keys(self) -> None:
        self.replacing_keys = True

    @rx.event
    def keep_saved_keys(self) -> None:
        self.replacing_keys = False

    @rx.event
    async def test_connection(self):  # type: ignore[no-untyped-def]
        self.testing, self.steps = True, []
        yield
        try:
            self.steps = await run_service(_test, self.token, self.project_id)
            found = await run_service(_load, self.token, self.project_id)
            found.pop("name")
            self.bucket = found
        except Exception as e:
            yield rx.toast.error(user_message(e))
        finally:
            self.testing = False

    @rx.event
    async def remove_bucket(self):  # type: ignore[no-untyped-def]
        try:
            await run_service(_remove, self.token, self.project_id)
        except Exception as e:
            return rx.toast.error(user_message(e))
        self.steps, self.replacing_keys, self.form_error = [], False, ""
        self._set_bucket({"has_bucket": False, "has_keys": False, "checked": ""})
        return rx.toast.success("Bucket removed: new files go to the app's storage.")

    @rx.event
    def set_origins(self, text: str) -> None:
        self.origins_text = text[:4000]
        self._render_cors()

    @rx.event
    def copy_cors_json(self):  # type: ignore[no-untyped-def]
        return [rx.set_clipboard(self.cors_json), rx.toast.success("CORS JSON copied.")]

    @rx.event
    def copy_cors_command(self):  # type: ignore[no-untyped-def]
        return [rx.set_clipboard(self.cors_command), rx.toast.success("Command copied.")]

    @rx.var
    def overview_url(self) -> str:
        return routes.project_url(self.project_id) if self.project_id else routes.PROJECTS

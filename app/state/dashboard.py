"""`/dashboard`: the signed-in overview: balance, this month's usage, the newest work."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.accounts import overview
from app.services.core.storage import get_storage
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

JOB_LABELS = {"queued": "Queued", "running": "Running", "done": "Done", "failed": "Failed"}


def _when(value: Any) -> str:
    return value.strftime("%d %b, %H:%M")


def _overview(token: str) -> dict[str, Any]:
    view = as_signed_in(
        token, lambda s, user: overview.overview(s, user=user, storage=get_storage())
    )
    return {
        "stats": {
            "balance": str(view.balance),
            "plan": f"{view.plan} plan · {view.monthly_credits} credits a month",
            "spent": str(view.credits_spent_this_month),
            "analyses": str(view.analyses_this_month),
            "prompts": str(view.prompts_total),
        },
        "analyses": [
            {"title": a.title, "model": a.model, "when": _when(a.updated_at)}
            for a in view.recent_analyses
        ],
        "prompts": [
            {
                "title": p.title,
                "image": p.thumbnail_url,
                "when": _when(p.created_at),
                "url": routes.prompt_url(p.id),
            }
            for p in view.recent_prompts
        ],
        "jobs": [
            {
                "title": f"Studio job #{j.id}: " + (", ".join(j.steps) or "no steps"),
                "status": JOB_LABELS.get(j.status, j.status.capitalize()),
                "progress": f"{j.done} of {j.total} done"
                + (f", {j.failed} failed" if j.failed else ""),
                "when": _when(j.created_at),
            }
            for j in view.recent_jobs
        ],
    }


class DashboardState(SessionState):
    stats: dict[str, str] = {}
    recent_analyses: list[dict[str, str]] = []
    recent_prompts: list[dict[str, str]] = []
    recent_jobs: list[dict[str, str]] = []
    loaded: bool = False

    @rx.var
    def brand_new(self) -> bool:
        return self.loaded and not (self.recent_analyses or self.recent_prompts or self.recent_jobs)

    @rx.event
    async def load_dashboard(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        try:
            found = await run_service(_overview, self.token)
        except Exception as e:  # the session ended between the two calls
            return [
                rx.toast.error(user_message(e)),
                rx.redirect(routes.login_url(routes.DASHBOARD)),
            ]
        self.stats = found["stats"]
        self.recent_analyses, self.recent_prompts = found["analyses"], found["prompts"]
        self.recent_jobs, self.loaded = found["jobs"], True
        return None

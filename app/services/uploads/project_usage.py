"""A person's use of the upload platform against their plan: this month's uploads, projects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from app.services.billing.pricing import plan_limits
from app.services.core.models import Project, Upload, User, utcnow


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of the calendar month (UTC) that plans count uploads in."""
    now = (now or utcnow()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def uploads_since(
    session: Session, *, project_ids: Sequence[int | None], since: datetime
) -> dict[int, int]:
    """Uploads asked for (presigned) since `since`, per project: what plans count."""
    ids = [i for i in project_ids if i is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(Upload.project_id, func.count())
        .where(col(Upload.project_id).in_(ids), col(Upload.created_at) >= since)
        .group_by(col(Upload.project_id))
    ).all()
    return {int(pid): int(n) for pid, n in rows}


@dataclass(frozen=True)
class Usage:
    plan_name: str
    uploads_this_month: int  # over all the owner's projects: the plan counts per account
    project_uploads_this_month: int
    monthly_uploads: int
    projects: int
    max_projects: int
    max_upload_file_size: int


def project_usage(session: Session, *, owner: User, project: Project) -> Usage:
    plan = plan_limits(owner)
    ids = list(session.exec(select(Project.id).where(Project.owner_id == owner.id)).all())
    per_project = uploads_since(session, project_ids=ids, since=month_start())
    return Usage(
        plan_name=plan.display_name,
        uploads_this_month=sum(per_project.values()),
        project_uploads_this_month=per_project.get(project.id or 0, 0),
        monthly_uploads=plan.monthly_uploads,
        projects=len(ids),
        max_projects=plan.max_projects,
        max_upload_file_size=plan.max_upload_file_size,
    )

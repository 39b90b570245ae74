"""Emails to a project's owner about its uploads: one when an upload fails (rejected at
complete, or quarantined by the scan), and a summary of each UTC day that had uploads.

The summary task runs every hour and covers the day before; its dedupe key (project and day)
makes it one email per project and day however often it runs, so a worker that was down at
midnight still sends yesterday's summary when it comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import Project, Upload, User, utcnow
from app.services.notify import triggers

log = get_logger("uploads")

FAILED = ("rejected", "quarantined")
SETTLED = ("ready", *FAILED)


def tell_owner_of_failure(session: Session, upload: Upload) -> None:
    """The "upload failed" email, in the transaction that rejects or quarantines `upload`."""
    project = session.get(Project, upload.project_id)
    owner = session.get(User, project.owner_id) if project is not None else None
    if project is None or owner is None or project.id is None:
        return
    if upload.status == "quarantined":
        reason = f"The virus scanner found {upload.scan_detail or 'malware'} in it."
    else:
        reason = upload.reason or "It did not pass the project's checks."
    triggers.upload_failed(
        session,
        owner=owner,
        project_id=project.id,
        project_name=project.name,
        upload_id=upload.id,
        filename=upload.name,
        status=upload.status,
        reason=reason,
    )


@dataclass
class DayActivity:
    counts: dict[str, int] = field(default_factory=dict)  # settled uploads by status
    ready_bytes: int = 0  # the bytes the day's accepted uploads stored


def day_activity(session: Session, *, day: date) -> dict[int, DayActivity]:
    """{project id: what was uploaded} for the projects with uploads settled on `day` (UTC)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    rows = session.exec(
        select(
            Upload.project_id,
            Upload.status,
            func.count(),
            func.coalesce(func.sum(Upload.size), 0),
        )
        .where(
            col(Upload.completed_at) >= start,
            col(Upload.completed_at) < start + timedelta(days=1),
            col(Upload.status).in_(SETTLED),
        )
        .group_by(col(Upload.project_id), col(Upload.status))
    ).all()
    found: dict[int, DayActivity] = {}
    for project_id, status, count, size in rows:
        activity = found.setdefault(project_id, DayActivity())
        activity.counts[status] = int(count)
        if status == "ready":
            activity.ready_bytes = int(size)
    return found


def send_daily_summaries(*, now: datetime | None = None) -> int:
    """Queue yesterday's (UTC) upload summary for each project that had uploads; returns how
    many were queued now (0 when this day's summaries went out already)."""
    day = (now or utcnow()).astimezone(UTC).date() - timedelta(days=1)
    with session_scope() as session:
        activity = day_activity(session, day=day)
    queued = 0
    for project_id, seen in sorted(activity.items()):
        try:
            with session_scope() as session:
                queued += _summarize(session, project_id=project_id, day=day, seen=seen)
        except IntegrityError:  # another worker queued this one at the same moment
            log.info("upload summary of project %s for %s already queued", project_id, day)
    return queued


def _summarize(session: Session, *, project_id: int, day: date, seen: DayActivity) -> int:
    project = session.get(Project, project_id)
    owner = session.get(User, project.owner_id) if project is not None else None
    if project is None or owner is None:
        return 0
    message = triggers.upload_daily_summary(
        session,
        owner=owner,
        project_id=project_id,
        project_name=project.name,
        day=day,
        counts=seen.counts,
        total_bytes=seen.ready_bytes,
    )
    return 0 if message is None else 1

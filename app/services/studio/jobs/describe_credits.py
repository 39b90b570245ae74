"""Credits of a studio job's "Describe as JSON prompts" step: one reservation per image.

The key is derived from the job's token and the image's position, so a worker that dies and is
replaced finds the same reservation again instead of holding the credits twice, and settling
the job (records.finish_job) settles every image's reservation: charged for the images whose
prompt was saved, refunded for the rest. All of it is idempotent.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.services.billing import credits
from app.services.core.errors import ConflictError, NotFoundError
from app.services.core.models import Job, JobItem
from app.services.studio.jobs.views import DESCRIBE_CREDITS, ItemStatus


def describe_key(token: str, position: int) -> str:
    return f"studio-describe:{token}:{position}"


def settle_descriptions(session: Session, *, job: Job) -> int:
    """Charge the held reservation of every described image and refund the others; returns the
    credits charged for descriptions in this job (settled now or before)."""
    if job.token is None or not job.result.get(DESCRIBE_CREDITS):
        return 0
    items = session.exec(
        select(JobItem.position, JobItem.status)
        .where(JobItem.job_id == job.id)
        .order_by(col(JobItem.position))
    ).all()
    session.commit()  # the ledger writes in its own transaction
    charged = 0
    for position, status in items:
        key = describe_key(job.token, position)
        try:
            held = credits.get_reservation(session, key=key)
        except NotFoundError:  # never reserved: refused at upload, or never reached
            continue
        if held.status == credits.ReservationStatus.held:
            try:
                if status == ItemStatus.done:
                    held = credits.commit(session, key=key, actual=held.amount)
                else:
                    held = credits.refund(session, key=key)
            except ConflictError:  # settled the other way at this moment; keep that
                held = credits.get_reservation(session, key=key)
        charged += int(held.charged or 0)
    return charged

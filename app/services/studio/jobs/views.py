"""What the studio page and the REST API see of a job: plain dataclasses, no ORM rows."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError
from app.services.core.models import Job, JobItem
from app.services.core.storage import Storage
from app.services.studio.imageops.spec import parse_spec

STUDIO_KIND = "studio"
DESCRIBE_CREDITS = "describe_credits"  # Job.result: the describe step's price per image


class JobStatus(enum.StrEnum):
    receiving = "receiving"  # create_job is still storing the uploads; shown as "queued"
    queued = "queued"
    running = "running"
    cancelling = "cancelling"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class ItemStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


# A user's jobs that count against the plan's concurrent-job limit.
ACTIVE = (JobStatus.receiving, JobStatus.queued, JobStatus.running, JobStatus.cancelling)
FINISHED = (JobStatus.done, JobStatus.failed, JobStatus.cancelled)
UNFINISHED_ITEMS = (ItemStatus.queued, ItemStatus.running)


@dataclass(frozen=True)
class OutputView:
    name: str
    media_type: str
    size: int  # bytes
    width: int | None
    height: int | None
    url: str  # a signed storage URL that downloads under `name`
    prompt_id: int | None = None  # the gallery prompt a "Describe as JSON prompts" step saved


@dataclass(frozen=True)
class ItemView:
    position: int
    name: str
    status: str  # queued | running | done | failed | cancelled
    error: str | None
    outputs: list[OutputView]


@dataclass(frozen=True)
class JobView:
    id: int
    status: str  # queued | running | done | failed | cancelled | cancelling
    mode: str  # now | batch
    spec: dict[str, Any]
    steps: list[str]
    total: int
    done: int
    failed: int
    cancelled: int
    percent: int  # 0-100: finished items (done, failed or cancelled) out of all
    credits_reserved: int
    credits_charged: int | None  # None until the job finished and its credits were settled
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    items: list[ItemView]  # empty in list_jobs
    credits_per_description: int = 0  # "Describe as JSON prompts": charged per image described


def item_counts(session: Session, job_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """{job id: {item status: count}} in one query."""
    if not job_ids:
        return {}
    rows = session.exec(
        select(JobItem.job_id, JobItem.status, func.count())
        .where(col(JobItem.job_id).in_(job_ids))
        .group_by(col(JobItem.job_id), col(JobItem.status))
    ).all()
    counts: dict[int, dict[str, int]] = {job_id: {} for job_id in job_ids}
    for job_id, status, n in rows:
        counts[job_id][status] = int(n)
    return counts


def build_view(
    job: Job,
    *,
    counts: dict[str, int],
    items: Iterable[JobItem] = (),
    storage: Storage | None = None,
) -> JobView:
    assert job.id is not None
    done = counts.get(ItemStatus.done, 0)
    failed = counts.get(ItemStatus.failed, 0)
    cancelled = counts.get(ItemStatus.cancelled, 0)
    total = sum(counts.values())
    finished = done + failed + cancelled
    return JobView(
        id=job.id,
        status=JobStatus.queued.value if job.status == JobStatus.receiving else job.status,
        mode=job.mode,
        spec=dict(job.spec),
        steps=_steps(job.spec),
        total=total,
        done=done,
        failed=failed,
        cancelled=cancelled,
        percent=100 if total == 0 else finished * 100 // total,
        credits_reserved=job.credits_reserved,
        credits_charged=job.credits_charged,
        created_at=job.created_at,
        finished_at=job.finished_at,
        error=job.error,
        items=[_item_view(item, storage) for item in items],
        credits_per_description=int((job.result or {}).get(DESCRIBE_CREDITS, 0)),
    )


def _item_view(item: JobItem, storage: Storage | None) -> ItemView:
    outputs = []
    for out in item.outputs:
        url = storage.presigned_get_url(out["key"], download_name=out["name"]) if storage else ""
        outputs.append(
            OutputView(
                name=out["name"],
                media_type=out["media_type"],
                size=int(out["size"]),
                width=out.get("width"),
                height=out.get("height"),
                url=url,
                prompt_id=out.get("prompt_id"),
            )
        )
    return ItemView(
        position=item.position,
        name=item.name,
        status=item.status,
        error=item.error,
        outputs=outputs,
    )


def _steps(raw: dict[str, Any]) -> list[str]:
    try:
        return parse_spec(raw).steps
    except InvalidInputError:  # a spec stored by an older release that this one refuses
        return []

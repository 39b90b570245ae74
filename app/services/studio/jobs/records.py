"""Creating, reading, cancelling and finishing studio jobs (the rows; the runner does the work).

Inputs and outputs live in storage under "jobs/<token>/": `in/<position>` for each upload and
`out/<position>-<n>.<ext>` for what the engine made of it. Keys are derived from the position,
so a re-run after a crash overwrites instead of leaving a twin behind.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import BinaryIO, Literal

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app.services.billing import credits, pricing
from app.services.core import metrics
from app.services.core.errors import (
    ConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    LeaseLostError,
    NotFoundError,
    PlanLimitError,
)
from app.services.core.logs import get_logger
from app.services.core.models import Job, JobItem, Role, User, utcnow
from app.services.core.storage import Storage, get_storage
from app.services.notify import triggers
from app.services.studio.imageops import iter_inputs
from app.services.studio.imageops.spec import OpsSpec
from app.services.studio.jobs.costs import estimate_cost, job_cost
from app.services.studio.jobs.describe_credits import DESCRIBE_CREDITS, settle_descriptions
from app.services.studio.jobs.lease import current_worker_id, rows_changed, stale_before, touch
from app.services.studio.jobs.views import (
    ACTIVE,
    FINISHED,
    STUDIO_KIND,
    UNFINISHED_ITEMS,
    ItemStatus,
    JobStatus,
    JobView,
    build_view,
    item_counts,
)

log = get_logger("jobs")

Mode = Literal["now", "batch"]
MODES: tuple[str, ...] = ("now", "batch")
# "now" jobs are taken from the queue before any "batch" job (huey: higher runs first).
PRIORITY: dict[str, int] = {"now": 10, "batch": 0}
MAX_LIST = 100
# Rows are committed in small groups while uploads are stored: short write transactions, so
# the worker (and other requests) are never locked out of SQLite for a whole upload.
_COMMIT_EVERY = 10
_SAFE_EXT = re.compile(r"[a-z0-9]{1,10}")


# -- storage keys ------------------------------------------------------------------------------


def input_key(token: str, position: int) -> str:
    return f"jobs/{token}/in/{position:05d}"


def output_key(token: str, position: int, index: int, name: str) -> str:
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return f"jobs/{token}/out/{position:05d}-{index}.{ext if _SAFE_EXT.fullmatch(ext) else 'bin'}"


def job_keys(session: Session, job_id: int) -> list[str]:
    """Every storage key a job's items point at (inputs and outputs)."""
    keys: list[str] = []
    for input_key_, outputs in session.exec(
        select(JobItem.input_key, JobItem.outputs).where(JobItem.job_id == job_id)
    ):
        if input_key_:
            keys.append(input_key_)
        keys.extend(out["key"] for out in outputs or [])
    return keys


# -- create ------------------------------------------------------------------------------------


@dataclass
class _Intake:
    count: int = 0
    usable: int = 0
    problems: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # keys written, removed if the job is refused


def admit_job(
    session: Session,
    *,
    user: User,
    spec: OpsSpec,
    uploads: Iterable[tuple[str, BinaryIO]],
    mode: Mode,
) -> int:
    """Store the uploads (zip files expanded) as a job's items, reserve the credits and mark it
    queued; returns its id. Putting it on the queue is dispatch.create_job's part.

    Files that can't be used become failed items with their reason; the rest still run.
    Raises PlanLimitError (too many images, or too many jobs at once), InsufficientCreditsError,
    or InvalidInputError when no usable image was given. Nothing is kept or charged on any of
    those. Commits `session` (the ledger writes in its own transactions).
    """
    if mode not in MODES:
        raise InvalidInputError("The mode must be 'now' or 'batch'.")
    assert user.id is not None
    session.commit()
    limits = pricing.plan_limits(user)
    _check_concurrent(session, user=user)
    preview = estimate_cost(session, spec=spec, count=1)
    per_image, describe = preview.per_image, preview.describe_per_image
    if per_image or describe:
        # Refuse at once when even one image is unaffordable, before any upload is stored.
        balance = credits.balance(session, user_id=user.id)
        one = job_cost(per_image=per_image, count=1, mode=mode) + describe
        if balance < one:
            raise InsufficientCreditsError(balance=balance, cost=one)
    token = uuid.uuid4().hex
    job = Job(
        user_id=user.id,
        kind=STUDIO_KIND,
        status=JobStatus.receiving.value,
        spec=spec.model_dump(mode="json", exclude_unset=True),
        mode=mode,
        token=token,
        reservation_key=f"studio-job:{token}" if per_image else None,
        credits_per_image=per_image,
        # The describe step's price when the job was created: the worker reserves it per image.
        result={DESCRIBE_CREDITS: describe} if spec.describe is not None else {},
        heartbeat_at=utcnow(),
    )
    session.add(job)
    session.commit()
    assert job.id is not None
    storage = get_storage()
    intake = _Intake()
    try:
        _receive(session, job=job, uploads=uploads, plan=limits, storage=storage, intake=intake)
        if intake.count == 0:
            raise InvalidInputError("Add at least one image (or a zip file of images).")
        if intake.usable == 0:
            raise InvalidInputError(_nothing_usable(intake))
        _check_concurrent(session, user=user, before_job=job.id)
        cost = job_cost(per_image=per_image, count=intake.usable, mode=mode)
        if cost and job.reservation_key:
            credits.reserve(
                session,
                user_id=user.id,
                amount=cost,
                idempotency_key=job.reservation_key,
                reference=f"job:{job.id}",
            )
        job.status = JobStatus.queued.value
        job.total = intake.count
        job.progress = intake.count - intake.usable
        job.credits_reserved = cost
        job.heartbeat_at = utcnow()
        session.add(job)
        session.commit()
    except BaseException:
        session.rollback()
        _discard(session, job_id=job.id, keys=intake.stored, storage=storage)
        raise
    return job.id


def _receive(
    session: Session,
    *,
    job: Job,
    uploads: Iterable[tuple[str, BinaryIO]],
    plan: pricing.Plan,
    storage: Storage,
    intake: _Intake,
) -> None:
    assert job.id is not None and job.token is not None
    for item in iter_inputs(uploads, max_items=plan.max_batch):
        if intake.count >= plan.max_batch:
            # The engine stops with one item past the limit that says so: refuse the job.
            raise PlanLimitError(_batch_limit_message(plan))
        position = intake.count
        intake.count += 1
        name = display_name(item.name)
        if item.error is not None or item.data is None:
            message = (item.error or "This file could not be read.")[:2000]
            intake.problems.append(f"{name}: {message}")
            row = JobItem(
                job_id=job.id,
                position=position,
                name=name,
                status=ItemStatus.failed.value,
                error=message,
                finished_at=utcnow(),
            )
        else:
            key = input_key(job.token, position)
            storage.put_bytes(key, item.data, content_type="application/octet-stream")
            intake.stored.append(key)
            intake.usable += 1
            row = JobItem(job_id=job.id, position=position, name=name, input_key=key)
        session.add(row)
        if intake.count % _COMMIT_EVERY == 0:
            job.heartbeat_at = utcnow()
            session.add(job)
            session.commit()
    session.commit()


def _nothing_usable(intake: _Intake) -> str:
    shown = "; ".join(intake.problems[:3])
    more = len(intake.problems) - 3
    tail = f" (and {more} more)" if more > 0 else ""
    if intake.count == 1:
        return f"That file can't be processed. {shown}"
    return f"None of the {intake.count} files can be processed. {shown}{tail}"


def check_batch_size(user: User, count: int) -> None:
    """Refuse `count` files up front when they are more than the plan's images per job (each
    file is at least one image). Zip files are counted image by image in create_job."""
    plan = pricing.plan_limits(user)
    if count > plan.max_batch:
        raise PlanLimitError(_batch_limit_message(plan))


def _batch_limit_message(plan: pricing.Plan) -> str:
    upgrade = " or upgrade to Pro" if plan.name == pricing.DEFAULT_PLAN else ""
    return (
        f"Your {plan.display_name} plan runs up to {plan.max_batch} images per job (every image "
        f"inside a zip file counts). Split the batch into smaller jobs{upgrade}."
    )


def _check_concurrent(session: Session, *, user: User, before_job: int | None = None) -> None:
    """Refuse when the user already has the plan's number of jobs queued or running.

    Called before the uploads are stored and again after, counting only older jobs: of two
    requests racing past the first check, the newer one is refused by the second.
    """
    limits = pricing.plan_limits(user)
    query = select(func.count()).where(
        col(Job.user_id) == user.id,
        col(Job.kind) == STUDIO_KIND,
        col(Job.status).in_(ACTIVE),
        # A job stuck while receiving (its request died) stops counting once it is stale.
        (col(Job.status) != JobStatus.receiving) | (col(Job.heartbeat_at) >= stale_before()),
    )
    if before_job is not None:
        query = query.where(col(Job.id) < before_job)
    active = int(session.exec(query).one())
    if active >= limits.max_concurrent_jobs:
        jobs_word = "job" if limits.max_concurrent_jobs == 1 else "jobs"
        upgrade = " or upgrade to Pro" if limits.name == pricing.DEFAULT_PLAN else ""
        raise PlanLimitError(
            f"Your {limits.display_name} plan runs {limits.max_concurrent_jobs} {jobs_word} at "
            f"a time and you have {active} queued or running. Wait for one to finish, cancel "
            f"one{upgrade}."
        )


def _discard(session: Session, *, job_id: int, keys: list[str], storage: Storage) -> None:
    """Remove a refused job: its files, its items and its row."""
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # an orphaned file is purged with nothing pointing at it; log and go on
            log.warning("could not delete %s of refused job %s", key, job_id, exc_info=True)
    rows_changed(session, delete(JobItem).where(col(JobItem.job_id) == job_id))
    rows_changed(session, delete(Job).where(col(Job.id) == job_id))
    session.commit()
    forget(session, job_id)


def forget(session: Session, job_id: int) -> None:
    """Drop a deleted job's objects from the session: SQLite may hand its id out again."""
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Job) and obj.id == job_id) or (
            isinstance(obj, JobItem) and obj.job_id == job_id
        ):
            session.expunge(obj)


def display_name(name: str) -> str:
    """An upload's name as shown in the item list: no control characters, 255 at most."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    return text[:255] or "image"


# -- read --------------------------------------------------------------------------------------


def load_job(session: Session, *, user: User, job_id: int) -> Job:
    """The studio job `job_id` if `user` owns it (or is an admin); NotFoundError otherwise, so
    nobody learns which ids exist."""
    job = session.get(Job, job_id) if isinstance(job_id, int) else None
    if (
        job is None
        or job.kind != STUDIO_KIND
        or (job.user_id != user.id and user.role != Role.admin.value)
    ):
        raise NotFoundError("No job with that id.")
    return job


def get_job(session: Session, *, user: User, job_id: int) -> JobView:
    """A job's status and every item with its outputs (signed URLs)."""
    job = load_job(session, user=user, job_id=job_id)
    session.refresh(job)
    items = list(
        session.exec(
            select(JobItem).where(JobItem.job_id == job_id).order_by(col(JobItem.position))
        )
    )
    counts: dict[str, int] = {}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return build_view(job, counts=counts, items=items, storage=get_storage())


def list_jobs(session: Session, *, user: User, limit: int = 20) -> list[JobView]:
    """The user's studio jobs, newest first, with counts but without items (see get_job)."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInputError(f"Ask for between 1 and {MAX_LIST} jobs at a time.")
    jobs = list(
        session.exec(
            select(Job)
            .where(Job.user_id == user.id, Job.kind == STUDIO_KIND)
            .order_by(col(Job.created_at).desc(), col(Job.id).desc())
            .limit(limit)
        )
    )
    counts = item_counts(session, [j.id for j in jobs if j.id is not None])
    return [build_view(j, counts=counts.get(j.id or 0, {})) for j in jobs]


# -- cancel and finish -------------------------------------------------------------------------


def cancel_job(session: Session, *, user: User, job_id: int) -> JobView:
    """Cancel a job. A queued job is cancelled at once and its credits refunded; a running one
    is asked to stop ("cancelling") and the worker finishes the cancellation after the image
    in hand, keeping what is done and refunding the rest. Cancelling twice is harmless."""
    load_job(session, user=user, job_id=job_id)
    session.commit()
    canceller = f"{current_worker_id()}:cancel"
    for _ in range(3):  # the job may change state under us (a worker claims it): look again
        job = session.get(Job, job_id)
        assert job is not None
        session.refresh(job)
        if job.status in (JobStatus.cancelled, JobStatus.cancelling):
            break
        if job.status in FINISHED:
            raise ConflictError(
                f"This job already {_finished_words(job.status)}; nothing to cancel."
            )
        if job.status == JobStatus.receiving:
            raise ConflictError(
                "This job is still receiving its files; cancel it once it is queued."
            )
        if job.status == JobStatus.queued:
            # Claim it like a worker would, so a worker taking it at this moment can't also run it.
            taken = rows_changed(
                session,
                update(Job)
                .where(
                    col(Job.id) == job_id,
                    col(Job.status) == JobStatus.queued,
                    col(Job.worker_id).is_(None),
                )
                .values(
                    status=JobStatus.cancelling.value,
                    cancel_requested=True,
                    worker_id=canceller,
                    heartbeat_at=utcnow(),
                ),
            )
            session.commit()
            if taken:
                finish_job(session, job_id=job_id, worker_id=canceller, cancelled=True)
                break
        else:
            asked = rows_changed(
                session,
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == JobStatus.running)
                .values(status=JobStatus.cancelling.value, cancel_requested=True),
            )
            session.commit()
            if asked:
                break
    return get_job(session, user=user, job_id=job_id)


def _finished_words(status: str) -> str:
    words = {"done": "finished", "failed": "failed", "cancelled": "was cancelled"}
    return words.get(status, status)


def finish_job(
    session: Session,
    *,
    job_id: int,
    worker_id: str,
    cancelled: bool = False,
    error: str | None = None,
) -> str:
    """Close a held job: unfinished items become cancelled (or failed, with `error`), the credit
    reservation is charged for the items that succeeded and the rest refunded, then the job gets
    its final status, which is returned. Idempotent; raises LeaseLostError if not held."""
    touch(session, job_id=job_id, worker_id=worker_id)
    now = utcnow()
    if cancelled:
        values: dict[str, object] = {"status": ItemStatus.cancelled.value, "finished_at": now}
    else:
        note = f"Not processed: {error}" if error else "Not processed."
        values = {"status": ItemStatus.failed.value, "error": note[:2000], "finished_at": now}
    rows_changed(
        session,
        update(JobItem)
        .where(col(JobItem.job_id) == job_id, col(JobItem.status).in_(UNFINISHED_ITEMS))
        .values(**values),
    )
    session.commit()
    job = session.get(Job, job_id)
    assert job is not None
    session.refresh(job)
    counts = item_counts(session, [job_id])[job_id]
    done = counts.get(ItemStatus.done, 0)
    charged = settle_credits(session, job=job, succeeded=done)
    charged += settle_descriptions(session, job=job)
    if cancelled:
        status = JobStatus.cancelled
    elif error or done == 0:
        status = JobStatus.failed
        error = error or "None of the images could be processed; each one shows why."
    else:
        status = JobStatus.done
    touch(
        session,
        job_id=job_id,
        worker_id=worker_id,
        status=status.value,
        error=error[:2000] if error else None,
        credits_charged=charged,
        finished_at=now,
        progress=sum(counts.values()),
    )
    if status != JobStatus.cancelled:  # whoever cancelled it knows already
        _tell_owner(session, job=job, status=status, counts=counts, error=error)
    session.commit()
    metrics.STUDIO_JOBS.labels(outcome=status.value).inc()
    if job.started_at is not None:
        started = job.started_at
        if started.tzinfo is None:  # SQLite and PostgreSQL's plain timestamps come back naive
            started = started.replace(tzinfo=UTC)
        seconds = max((now - started).total_seconds(), 0.0)
        metrics.STUDIO_JOB_DURATION.labels(outcome=status.value).observe(seconds)
    return status.value


def _tell_owner(
    session: Session, *, job: Job, status: str, counts: dict[str, int], error: str | None
) -> None:
    """The "job done or failed" email, in the transaction that sets the final status."""
    owner = session.get(User, job.user_id) if job.user_id is not None else None
    if owner is None or job.id is None:
        return
    steps = build_view(job, counts=counts).steps
    triggers.studio_job_finished(
        session,
        user=owner,
        job_id=job.id,
        job_name=", ".join(s.replace("_", " ") for s in steps)[:120] or "image operations",
        status=str(status),
        items_done=counts.get(ItemStatus.done, 0),
        items_failed=counts.get(ItemStatus.failed, 0),
        error=error,
    )


def settle_credits(session: Session, *, job: Job, succeeded: int) -> int:
    """Charge the reservation for the images that succeeded, at the price reserved when the job
    was created, and give back the rest. Returns the credits charged. Idempotent: a job finished
    again after a crash gets the amount settled the first time."""
    if not job.reservation_key or not job.credits_reserved:
        return 0
    actual = job_cost(per_image=job.credits_per_image, count=succeeded, mode=job.mode)
    session.commit()  # the ledger writes in its own transaction
    try:
        if actual == 0:
            reservation = credits.refund(session, key=job.reservation_key)
        else:
            reservation = credits.commit(session, key=job.reservation_key, actual=actual)
    except ConflictError:  # settled the other way before; keep that
        reservation = credits.get_reservation(session, key=job.reservation_key)
    except NotFoundError:  # never reserved (the job was refused before reserving)
        return 0
    return int(reservation.charged or 0)


__all__ = [
    "MODES",
    "PRIORITY",
    "LeaseLostError",
    "Mode",
    "cancel_job",
    "check_batch_size",
    "admit_job",
    "display_name",
    "finish_job",
    "forget",
    "get_job",
    "input_key",
    "job_keys",
    "list_jobs",
    "load_job",
    "output_key",
    "settle_credits",
]

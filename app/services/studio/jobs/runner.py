"""The worker's side of a studio job: claim it, run its unfinished items, settle, finish.

Everything here is safe to run twice. Items already done are skipped, outputs are written to
keys derived from the item, and each item's result is committed in its own short transaction
together with a check that this worker still holds the job (see lease.py). A per-item failure
(a corrupt file, a refused provider call) is final for that item; a failure of storage or the
database is raised for the queue to retry the whole job later, from where it stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.services.core import metrics
from app.services.core.db import session_scope
from app.services.core.error_events import record_error
from app.services.core.errors import (
    LeaseLostError,
    NotFoundError,
    PoolStoppedError,
    StorageError,
    UserFacingError,
    new_error_id,
    public_message,
)
from app.services.core.logs import get_logger
from app.services.core.models import Job, JobItem, utcnow
from app.services.core.storage import Storage, get_storage
from app.services.studio.imageops import OutputFile, map_images
from app.services.studio.imageops.spec import parse_spec
from app.services.studio.jobs.describe_step import DescribeJob, describe_image, settle_item
from app.services.studio.jobs.lease import (
    claim,
    current_worker_id,
    heartbeat,
    release,
    rows_changed,
    touch,
)
from app.services.studio.jobs.records import finish_job, output_key
from app.services.studio.jobs.views import UNFINISHED_ITEMS, ItemStatus

log = get_logger("jobs")

# Worth retrying the job for: the storage or the database was briefly out of reach.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (StorageError, OperationalError, OSError)
SKIPPED = "skipped"
MISSING_INPUT = "The uploaded file is no longer in storage. Upload it again in a new job."


@dataclass(frozen=True)
class _Pending:
    item_id: int
    position: int
    name: str
    input_key: str | None


def run_job(job_id: int, *, last_attempt: bool = True, worker_id: str | None = None) -> str:
    """Run a studio job's unfinished items and finish it. Returns the final status, or
    "skipped" when the job is not waiting for a worker (another one has it, it finished, it was
    cancelled while queued).

    With `last_attempt` False, a transient failure hands the job back and is raised, so the
    queue retries it; on the last attempt it fails the job instead (credits for the images not
    done are refunded).
    """
    worker = worker_id or current_worker_id()
    with session_scope() as session:
        if not claim(session, job_id=job_id, worker_id=worker):
            log.info("job %s is not waiting for a worker; skipped", job_id)
            return SKIPPED
    try:
        with heartbeat(job_id, worker) as lost:
            cancelled = _process(job_id, worker=worker, lost=lost)
        return _finish(job_id, worker=worker, cancelled=cancelled)
    except LeaseLostError:
        log.warning("job %s was taken over by another worker; stopping", job_id)
        return SKIPPED
    except PoolStoppedError:
        # This worker is stopping and has handed the job back (the queue runs it again); the
        # images it abandoned are still unfinished, to be redone.
        with session_scope() as session:
            release(session, job_id=job_id, worker_id=worker)
        log.info("job %s left to the next worker: this one is stopping", job_id)
        return SKIPPED
    except TRANSIENT_ERRORS as e:
        if not last_attempt:
            log.warning("job %s hit a transient error, will retry: %s", job_id, e)
            with session_scope() as session:
                release(session, job_id=job_id, worker_id=worker)
            raise
        error_id = new_error_id()
        log.error("job %s failed after its retries (%s)", job_id, error_id, exc_info=e)
        record_error(e, reference=error_id, location=f"studio job {job_id}")
        return _finish(
            job_id,
            worker=worker,
            error=f"Storage or the database kept failing, so the job stopped. Ref: {error_id}",
        )
    except Exception as e:
        error_id = new_error_id()
        log.error("job %s failed (%s)", job_id, error_id, exc_info=e)
        if not isinstance(e, UserFacingError):  # the owner sees its message, not a reference
            record_error(e, reference=error_id, location=f"studio job {job_id}")
        return _finish(job_id, worker=worker, error=public_message(e, error_id))


def _finish(job_id: int, *, worker: str, cancelled: bool = False, error: str | None = None) -> str:
    try:
        with session_scope() as session:
            return finish_job(
                session, job_id=job_id, worker_id=worker, cancelled=cancelled, error=error
            )
    except LeaseLostError:
        log.warning("job %s was taken over before it finished here", job_id)
        return SKIPPED


def _process(job_id: int, *, worker: str, lost: threading.Event) -> bool:
    """Run the pending items; True when the job was cancelled before they all ran."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.token is not None
        if job.cancel_requested:
            return True
        spec = parse_spec(job.spec)
        token = job.token
        describe = DescribeJob.of(job)
        pending = [
            _Pending(item_id=i, position=p, name=n, input_key=k)
            for i, p, n, k in session.exec(
                select(JobItem.id, JobItem.position, JobItem.name, JobItem.input_key)
                .where(JobItem.job_id == job_id, col(JobItem.status).in_(UNFINISHED_ITEMS))
                .order_by(col(JobItem.position))
            )
            if i is not None
        ]
    if not pending:
        return False
    storage = get_storage()
    by_id = {p.item_id: p for p in pending}
    stop = threading.Event()
    results = map_images(
        _feed(pending, job_id=job_id, worker=worker, storage=storage, stop=stop), spec
    )
    try:
        for item_id, outcome in results:
            if lost.is_set():
                raise LeaseLostError(f"job {job_id} lost its worker lease")
            if _record(
                job_id,
                worker=worker,
                storage=storage,
                token=token,
                item=by_id[item_id],
                outcome=outcome,
                describe=describe,
                processed=spec.image_ops,
            ):
                stop.set()
                return True
    finally:
        stop.set()
        # Closing the generator cancels the images still waiting in the pool.
        getattr(results, "close", lambda: None)()
    return False


def _feed(
    pending: Sequence[_Pending],
    *,
    job_id: int,
    worker: str,
    storage: Storage,
    stop: threading.Event,
) -> Iterator[tuple[int, bytes, str]]:
    """The inputs, read from storage one at a time as the pool asks for them; each is marked
    running (another attempt) just before it is handed over."""
    for item in pending:
        if stop.is_set():
            return
        # One statement, checking the lease in the same breath: this runs once per image.
        still_held = exists().where(col(Job.id) == job_id, col(Job.worker_id) == worker)
        with session_scope() as session:
            marked = rows_changed(
                session,
                update(JobItem)
                .where(col(JobItem.id) == item.item_id, still_held)
                .values(
                    status=ItemStatus.running.value,
                    attempts=col(JobItem.attempts) + 1,
                    started_at=utcnow(),
                ),
            )
        if not marked:
            raise LeaseLostError(f"job {job_id} lost its worker lease")
        try:
            if item.input_key is None:
                raise NotFoundError(MISSING_INPUT)
            data = storage.read_bytes(item.input_key)
        except NotFoundError:
            _save_item(
                job_id,
                worker=worker,
                item_id=item.item_id,
                values={"status": ItemStatus.failed.value, "error": MISSING_INPUT},
            )
            continue
        yield item.item_id, data, item.name


def _record(
    job_id: int,
    *,
    worker: str,
    storage: Storage,
    token: str,
    item: _Pending,
    outcome: list[OutputFile] | UserFacingError,
    describe: DescribeJob | None = None,
    processed: bool = False,
) -> bool:
    """Store one item's outputs (or its error), describe it when the job asks, and commit it;
    True if a cancel was asked for."""
    item_id, position = item.item_id, item.position
    if isinstance(outcome, UserFacingError):
        values: dict[str, object] = {
            "status": ItemStatus.failed.value,
            "error": outcome.message[:2000],
        }
    else:
        outputs = []
        for index, out in enumerate(outcome):
            key = output_key(token, position, index, out.name)
            size = storage.put_bytes(key, out.data, content_type=out.media_type)
            outputs.append(
                {
                    "name": out.name,
                    "key": key,
                    "media_type": out.media_type,
                    "size": size,
                    "width": out.width,
                    "height": out.height,
                }
            )
        values = {"status": ItemStatus.done.value, "outputs": outputs, "error": None}
        if describe is not None:
            described = describe_image(
                describe,
                position=position,
                index=len(outputs),
                name=item.name,
                input_key=item.input_key,
                processed=outcome[0] if processed and outcome else None,
                storage=storage,
            )
            if isinstance(described, UserFacingError):
                values = {**values, "status": ItemStatus.failed.value, "error": described.message}
            else:
                # The prompt is saved in the same transaction that marks the item done.
                cancel = _save_item(
                    job_id,
                    worker=worker,
                    item_id=item_id,
                    values=values,
                    also=lambda session: {"outputs": [*outputs, described.save(session, describe)]},
                )
                settle_item(describe, position=position, described=True)
                return cancel
    cancel = _save_item(job_id, worker=worker, item_id=item_id, values=values)
    if describe is not None:
        settle_item(describe, position=position, described=False)
    return cancel


def _save_item(
    job_id: int,
    *,
    worker: str,
    item_id: int,
    values: dict[str, object],
    also: Callable[[Session], dict[str, object]] | None = None,
) -> bool:
    """Commit one item's result; `also` writes more in the same transaction (after the lease
    check) and returns values to add."""
    with session_scope() as session:
        touch(session, job_id=job_id, worker_id=worker, progress=col(Job.progress) + 1)
        if also is not None:
            values = {**values, **also(session)}
        rows_changed(
            session,
            update(JobItem)
            .where(col(JobItem.id) == item_id)
            .values(finished_at=utcnow(), **values),
        )
        cancel = bool(session.exec(select(Job.cancel_requested).where(Job.id == job_id)).one())
    metrics.STUDIO_ITEMS.labels(outcome=str(values["status"])).inc()  # committed: counted once
    return cancel

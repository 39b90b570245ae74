"""What must hold once the load is over and the queue has drained, read from the database, the
S3 server and the fakes: nothing lost, nothing done twice, every credit accounted for."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.errors import NotFoundError
from app.services.core.models import (
    CreditEntry,
    Generation,
    GenerationImage,
    Job,
    JobItem,
    Upload,
    User,
    WebhookDelivery,
)
from app.services.core.storage import get_storage
from benchmarks.scale.load import Outcome
from tests.utils.fakes.webhook_receiver import WebhookReceiver

UNFINISHED_JOB = ("receiving", "queued", "running", "cancelling")
UNFINISHED_RUN = ("queued", "running")


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


def _user_ids(session: Session, emails: list[str]) -> list[int]:
    return [u for u in session.exec(select(User.id).where(col(User.email).in_(emails))) if u]


def _waiting(session: Session, user_ids: list[int], upload_ids: list[str]) -> dict[str, int]:
    mine = col(Job.user_id).in_(user_ids)
    jobs = session.exec(select(func.count()).where(mine, col(Job.status).in_(UNFINISHED_JOB))).one()
    theirs = col(Generation.user_id).in_(user_ids)
    runs = session.exec(
        select(func.count()).where(theirs, col(Generation.status).in_(UNFINISHED_RUN))
    ).one()
    deliveries = session.exec(select(func.count()).where(WebhookDelivery.status == "pending")).one()
    unprocessed = session.exec(
        select(func.count()).where(
            col(Upload.id).in_(upload_ids),
            Upload.status == "ready",
            col(Upload.processed_at).is_(None),
        )
    ).one()
    return {
        "jobs": jobs,
        "generations": runs,
        "webhook deliveries": deliveries,
        "uploads unprocessed": unprocessed,
    }


def wait_for_drain(outcome: Outcome, *, limit: float) -> dict[str, int]:
    """Wait (bounded) until no job, run, delivery or upload processing is left; what is left."""
    deadline = time.monotonic() + limit
    upload_ids = [u.id for u in outcome.uploads]
    while True:
        with session_scope() as session:
            left = _waiting(session, _user_ids(session, outcome.emails), upload_ids)
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(1.0)


def check_ledgers(session: Session, user_ids: list[int], found: Findings) -> None:
    settled = 0
    for user_id in user_ids:
        entries = session.exec(
            select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(col(CreditEntry.id))
        ).all()
        running = 0
        for entry in entries:
            running += entry.amount
            found.expect(running >= 0, f"user {user_id}: balance {running} after entry {entry.id}")
        found.expect(
            running == credits.balance(session, user_id=user_id),
            f"user {user_id}: entries sum to {running}, balance says otherwise",
        )
        keys = {e.idempotency_key for e in entries}
        for entry in entries:
            if entry.kind == "reserve":
                settle = "settle:" + entry.idempotency_key.removeprefix("reserve:")
                never = f"user {user_id}: reservation {entry.reference} never settled"
                found.expect(settle in keys, never)
                settled += 1
    found.facts.append(f"{len(user_ids)} ledgers exact, {settled} reservations each settled once")


def check_jobs(session: Session, outcome: Outcome, user_ids: list[int], found: Findings) -> None:
    rows = session.exec(
        select(Job).where(col(Job.user_id).in_(user_ids), Job.kind == "studio")
    ).all()
    found.expect(
        sorted(j.id for j in rows if j.id) == sorted(outcome.jobs),
        f"studio jobs in the database {len(rows)} != jobs people started {len(outcome.jobs)}",
    )
    for job in rows:
        found.expect(job.status == "done", f"studio job {job.id} ended {job.status}: {job.error}")
        items = session.exec(select(JobItem).where(JobItem.job_id == job.id)).all()
        for item in items:
            found.expect(
                item.status == "done" and len(item.outputs) == 1,
                f"job {job.id} item {item.position}: {item.status}, {len(item.outputs)} outputs",
            )
    retried = sum(1 for j in rows if j.attempts > 1)
    found.facts.append(
        f"{len(rows)} studio jobs done, once each ({retried} ran again on another worker)"
    )


def check_generations(
    session: Session, outcome: Outcome, user_ids: list[int], provider_calls: int, found: Findings
) -> None:
    runs = session.exec(select(Generation).where(col(Generation.user_id).in_(user_ids))).all()
    found.expect(
        sorted(r.id for r in runs if r.id) == sorted(outcome.generations),
        f"generations in the database {len(runs)} != runs started {len(outcome.generations)}",
    )
    images = 0
    for run in runs:
        found.expect(run.status == "done", f"generation {run.id} ended {run.status}: {run.error}")
        for image in session.exec(
            select(GenerationImage).where(GenerationImage.generation_id == run.id)
        ):
            images += 1
            made = image.asset_id is not None and image.gallery_prompt_id is not None
            found.expect(
                image.status == "done" and made,
                f"generation {run.id} image {image.position}: {image.status} {image.error}",
            )
    # Gallery entries are made once per image: two for one image would be a duplicate.
    entries = session.exec(
        select(GenerationImage.gallery_prompt_id)
        .join(Generation, col(Generation.id) == GenerationImage.generation_id)
        .where(col(Generation.user_id).in_(user_ids))
    ).all()
    found.expect(len(entries) == len(set(entries)), "a gallery entry made for two images")
    found.expect(provider_calls >= images, "fewer provider calls than images made")
    found.facts.append(
        f"{len(runs)} generations, {images} images done once each "
        f"({provider_calls} calls to the provider)"
    )


def check_uploads_and_webhooks(
    session: Session, outcome: Outcome, receiver: WebhookReceiver, found: Findings
) -> None:
    storage = get_storage()
    ready = [u for u in outcome.uploads if u.status == "ready"]
    found.expect(len(ready) == len(outcome.uploads), "some completed uploads were not ready")
    for seen in ready:
        row = session.get(Upload, seen.id)
        found.expect(
            row is not None and row.status == "ready", f"upload {seen.id} lost or not ready"
        )
        processed = row is not None and row.processed_at is not None
        found.expect(processed, f"upload {seen.id} never scanned and thumbnailed")
        try:
            found.expect(storage.head(seen.key).size > 0, f"upload {seen.id}: empty object")
        except NotFoundError:
            found.problems.append(f"upload {seen.id}: object missing from S3")
    deliveries = session.exec(select(WebhookDelivery)).all()
    per_upload = Counter(
        json.loads(d.payload)["data"]["id"]
        for d in deliveries
        if d.event_type == "upload.completed"
    )
    for seen in ready:
        found.expect(
            per_upload[seen.id] == 1, f"upload {seen.id}: {per_upload[seen.id]} deliveries"
        )
    for delivery in deliveries:
        found.expect(delivery.status == "succeeded", f"delivery {delivery.id} {delivery.status}")
    received = Counter(r.headers.get("webhook-id") for r in receiver.requests)
    missing = [d.id for d in deliveries if received[d.id] == 0]
    found.expect(not missing, f"{len(missing)} deliveries never reached the receiver")
    repeats = sum(n - 1 for n in received.values() if n > 1)
    found.facts.append(
        f"{len(ready)} uploads ready, processed and in S3; {len(deliveries)} webhook deliveries, "
        f"each delivered ({repeats} sent again after a lease ran out: same webhook-id)"
    )


def check_all(outcome: Outcome, *, receiver: WebhookReceiver, provider_calls: int) -> Findings:
    found = Findings()
    found.expect(
        not outcome.stuck, f"still unfinished when people stopped polling: {outcome.stuck[:5]}"
    )
    with session_scope() as session:
        user_ids = _user_ids(session, outcome.emails)
        found.expect(len(user_ids) == len(outcome.emails), "an account people signed up is missing")
        check_ledgers(session, user_ids, found)
        check_jobs(session, outcome, user_ids, found)
        check_generations(session, outcome, user_ids, provider_calls, found)
        check_uploads_and_webhooks(session, outcome, receiver, found)
    return found

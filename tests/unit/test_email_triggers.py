"""Emails queued by the real flows: studio jobs, low credits (once per crossing), the daily
upload summary, and nothing for a kind its owner switched off.

(The LoRA, generation, receipt, webhook-disabled and upload-failed emails are checked in those
flows' own tests: test_lora_training, test_generation_runs, integration/test_billing,
test_webhooks, test_uploads_api and integration/test_upload_scanning.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from app.services.billing import credits
from app.services.core.models import User
from app.services.core.queue import get_huey
from app.services.studio import jobs
from app.services.uploads.owner_emails import day_activity, send_daily_summaries
from app.services.worker.tasks import tasks_for
from app.settings import reset_settings
from tests.utils.images import truncated_jpeg
from tests.utils.job_helpers import make_user, photo, run_queue, spec, uploads
from tests.utils.outbox import emails, only_email
from tests.utils.upload_rows import make_project, stored_upload

THRESHOLD = 10


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOW_CREDITS_THRESHOLD", str(THRESHOLD))
    reset_settings()


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=100)


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, "boss@example.com", role="admin")


def uid(user: User) -> int:
    assert user.id is not None
    return user.id


def opt_out(session: Session, user: User, *kinds: str) -> None:
    user.email_opt_out = list(kinds)
    session.add(user)
    session.commit()


# -- studio jobs -------------------------------------------------------------------------------


def test_a_finished_studio_job_emails_its_owner_once(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("b.txt", b"not an image")),
        mode="now",
    )
    assert emails(session) == []  # nothing while it waits
    run_queue()

    told = only_email(session, "studio_job_finished", to=ada.email)
    assert told.subject == f"Studio job #{view.id} (auto orient, resize, encode) is done"
    assert told.context["job_id"] == view.id and told.context["status"] == "done"
    assert (told.context["items_done"], told.context["items_failed"]) == (1, 1)
    assert told.context["url"] == "http://localhost:3000/studio"
    assert told.user_id == ada.id
    assert jobs.run_job(view.id) == "skipped"  # a stray duplicate task: no second email
    assert len(emails(session)) == 1


def test_a_failed_studio_job_says_why(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("cut.jpg", truncated_jpeg())), mode="now"
    )
    run_queue()
    told = only_email(session, "studio_job_finished", to=ada.email)
    assert told.subject.endswith(") failed") and told.context["status"] == "failed"
    assert told.context["items_failed"] == 1 and "could be processed" in told.context["error"]
    assert jobs.get_job(session, user=ada, job_id=view.id).status == "failed"


def test_no_email_for_a_kind_switched_off_or_a_cancelled_job(session: Session, ada: User) -> None:
    cancelled = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="now"
    )
    jobs.cancel_job(session, user=ada, job_id=cancelled.id)  # whoever cancelled knows
    run_queue()
    assert emails(session) == []

    opt_out(session, ada, "studio_job_finished")
    jobs.create_job(session, user=ada, spec=spec(), uploads=uploads(("b.jpg", photo())), mode="now")
    run_queue()
    assert emails(session) == []


# -- low credits -------------------------------------------------------------------------------


def reserve(session: Session, user: User, amount: int, key: str) -> None:
    credits.reserve(session, user_id=uid(user), amount=amount, idempotency_key=key)


def notified(session: Session, user: User) -> bool:
    session.commit()
    session.refresh(user)
    return user.low_credits_notified


def test_low_credits_once_per_crossing(session: Session, admin: User) -> None:
    bo = make_user(session, "bo@example.com", balance=12)
    assert emails(session) == [] and not notified(session, bo)

    reserve(session, bo, 2, "a")  # 12 -> 10: at the threshold is not below it
    assert emails(session) == []
    reserve(session, bo, 1, "b")  # 10 -> 9: crossed
    first = only_email(session, "low_credits", to=bo.email)
    assert (first.context["balance"], first.context["threshold"]) == (9, THRESHOLD)
    assert first.subject == "You have 9 credits left"
    assert first.context["url"] == "http://localhost:3000/pricing"
    assert notified(session, bo)

    reserve(session, bo, 4, "c")  # down again, 9 -> 5: still the same crossing
    credits.refund(session, key="c")  # 5 -> 9: up, but still below
    reserve(session, bo, 8, "d")  # 9 -> 1
    assert len(emails(session, "low_credits")) == 1

    credits.grant(  # 1 -> 21: back above, so the next crossing counts
        session, user_id=uid(bo), amount=20, reason="top-up", actor=admin, idempotency_key="g"
    )
    assert not notified(session, bo)
    assert len(emails(session, "low_credits")) == 1
    credits.commit(session, key="d", actual=12)  # the extra 4 charged: 21 -> 17
    reserve(session, bo, 10, "e")  # 17 -> 7: a second crossing
    second = emails(session, "low_credits")[-1]
    assert len(emails(session, "low_credits")) == 2 and second.context["balance"] == 7
    assert second.dedupe_key != first.dedupe_key and notified(session, bo)


def test_a_balance_that_starts_low_or_a_kind_switched_off_sends_nothing(
    session: Session,
) -> None:
    low = make_user(session, "low@example.com", balance=5)  # never was at the threshold
    reserve(session, low, 1, "a")
    quiet = make_user(session, "quiet@example.com", balance=20)
    opt_out(session, quiet, "low_credits")
    reserve(session, quiet, 15, "b")
    assert emails(session) == []
    assert notified(session, quiet)  # the crossing happened; it just wasn't mailed


def test_a_threshold_of_zero_never_emails(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOW_CREDITS_THRESHOLD", "0")
    reset_settings()
    ada = make_user(session, "zero@example.com", balance=3)
    reserve(session, ada, 3, "all")
    assert emails(session) == []


# -- the daily upload summary ------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)  # the task's first run of 2 March
YESTERDAY = datetime(2026, 3, 1, tzinfo=UTC)


def test_each_project_with_uploads_yesterday_gets_one_summary(session: Session) -> None:
    site = make_project(session, "dev@example.com")
    for data, status, at in (
        (b"a" * 1000, "ready", YESTERDAY),  # midnight belongs to the day it starts
        (b"b" * 2500, "ready", YESTERDAY + timedelta(hours=23, minutes=59)),
        (b"c" * 700, "rejected", YESTERDAY + timedelta(hours=12)),
        (b"d" * 300, "quarantined", YESTERDAY + timedelta(hours=13)),
        (b"e" * 999, "ready", YESTERDAY - timedelta(seconds=1)),  # the day before
        (b"f" * 999, "ready", NOW),  # today: tomorrow's summary
        (b"g" * 999, "pending", None),  # never completed: no activity
    ):
        stored_upload(session, site, data, status=status, completed_at=at)
    quiet = make_project(session, "quiet@example.com")  # uploads today only
    stored_upload(session, quiet, b"x", completed_at=NOW)
    muted = make_project(session, "muted@example.com")
    stored_upload(session, muted, b"y", completed_at=YESTERDAY + timedelta(hours=1))
    muted_owner = session.get(User, muted.owner_id)
    assert muted_owner is not None
    opt_out(session, muted_owner, "upload_daily_summary")

    assert send_daily_summaries(now=NOW) == 1
    told = only_email(session, "upload_daily_summary", to="dev@example.com")
    assert told.subject == "Uploads to Site on 2026-03-01"
    context = told.context
    assert (context["project_id"], context["project_name"], context["day"]) == (
        site.id,
        "Site",
        "2026-03-01",
    )
    assert (context["ready"], context["rejected"], context["quarantined"]) == (2, 1, 1)
    assert context["bytes"] == 3500  # what the ready uploads stored
    assert context["url"] == f"http://localhost:3000/projects/{site.id}/uploads"

    # The task runs every hour: the same day's summaries go out once.
    assert send_daily_summaries(now=NOW + timedelta(hours=5)) == 0
    assert len(emails(session)) == 1
    assert set(day_activity(session, day=NOW.date())) == {site.id, quiet.id}


def test_the_summary_task_is_registered_hourly() -> None:
    task = tasks_for(get_huey()).upload_summary
    assert task.name == "upload_summary"
    periodic = task.task_class()
    assert periodic.validate_datetime(datetime(2026, 3, 2, 7, 5))
    assert not periodic.validate_datetime(datetime(2026, 3, 2, 7, 6))

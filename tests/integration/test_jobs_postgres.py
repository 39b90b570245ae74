"""Studio jobs on a real PostgreSQL: the same life cycle, leases and credits as on SQLite."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services.billing import credits, pricing
from app.services.core.errors import PlanLimitError
from app.services.core.models import Job, JobItem, utcnow
from app.services.core.queue import get_huey
from app.services.studio import jobs
from app.services.studio.jobs.lease import claim
from app.services.worker.maintenance import run_maintenance
from tests.utils.images import truncated_jpeg
from tests.utils.job_helpers import make_user, photo, queued_tasks, run_queue, spec, uploads

pytestmark = pytest.mark.integration


def test_a_job_runs_is_charged_and_purged_on_postgres(pg_session: Session) -> None:
    session = pg_session
    admin = make_user(session, "boss@example.com", role="admin")
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=2)
    session.commit()
    ada = make_user(session, "ada@example.com", balance=20)
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("a.jpg", photo()), ("cut.jpg", truncated_jpeg())),
        mode="now",
    )
    assert view.credits_reserved == 6 and credits.balance(session, user_id=ada.id or 0) == 14
    with pytest.raises(PlanLimitError):
        jobs.create_job(
            session, user=ada, spec=spec(), uploads=uploads(("b.jpg", photo())), mode="now"
        )
    run_queue()
    done = jobs.get_job(session, user=ada, job_id=view.id)
    assert (done.status, done.done, done.failed, done.credits_charged) == ("done", 2, 1, 4)
    assert credits.balance(session, user_id=ada.id or 0) == 16
    out = io.BytesIO()
    jobs.write_zip(session, user=ada, job_id=view.id, out=out)
    assert sorted(zipfile.ZipFile(out).namelist()) == ["a (2).webp", "a.webp", "errors.txt"]

    assert done.finished_at is not None
    long_ago = done.finished_at - timedelta(days=8)
    session.exec(update(Job).where(col(Job.id) == view.id).values(finished_at=long_ago))
    session.commit()
    assert run_maintenance()["purged_jobs"] == 1
    session.expire_all()
    assert session.exec(select(Job)).all() == [] and session.exec(select(JobItem)).all() == []


def test_cancel_and_recovery_on_postgres(pg_session: Session) -> None:
    session = pg_session
    pro = make_user(session, "pro@example.com", plan="pro", balance=10)
    queued = jobs.create_job(
        session, user=pro, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="batch"
    )
    cancelled = jobs.cancel_job(session, user=pro, job_id=queued.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled == 1

    orphan = jobs.create_job(
        session, user=pro, spec=spec(), uploads=uploads(("b.jpg", photo())), mode="now"
    )
    get_huey().flush()
    assert claim(session, job_id=orphan.id, worker_id="gone-host:1:x")
    silent = utcnow() - timedelta(minutes=5)
    session.exec(update(Job).where(col(Job.id) == orphan.id).values(heartbeat_at=silent))
    session.commit()
    assert jobs.recover_jobs() == [orphan.id]
    assert [t.args[0] for t in queued_tasks()] == [orphan.id]
    run_queue()
    assert jobs.get_job(session, user=pro, job_id=orphan.id).status == "done"

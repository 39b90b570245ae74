"""Studio jobs on the queue: records only writes rows, dispatch puts them on the queue."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.core.models import Job, User
from app.services.core.queue import get_huey
from app.services.studio import jobs
from app.services.studio.jobs import dispatch, records
from app.services.worker.tasks import tasks_for
from tests.utils.job_helpers import make_user, photo, queued_tasks, run_queue, spec, uploads


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=100)


def test_admitting_a_job_writes_its_rows_but_queues_nothing(session: Session, ada: User) -> None:
    job_id = records.admit_job(
        session, user=ada, spec=spec(), uploads=uploads(("a.png", photo())), mode="now"
    )
    job = session.get(Job, job_id)
    assert job is not None and job.status == "queued" and job.total == 1
    assert queued_tasks() == []
    dispatch.enqueue(job_id, mode="now")
    assert [(t.args[0], t.priority) for t in queued_tasks()] == [(job_id, jobs.PRIORITY["now"])]


def test_creating_a_job_queues_it_once_with_its_mode_priority(session: Session) -> None:
    pro = make_user(session, "pro@example.com", plan="pro", balance=100)  # runs 4 jobs at a time
    batch = jobs.create_job(
        session, user=pro, spec=spec(), uploads=uploads(("a.png", photo())), mode="batch"
    )
    now = jobs.create_job(
        session, user=pro, spec=spec(), uploads=uploads(("b.png", photo())), mode="now"
    )
    tasks = {t.args[0]: t.priority for t in queued_tasks()}
    assert tasks == {batch.id: jobs.PRIORITY["batch"], now.id: jobs.PRIORITY["now"]}
    run_queue()
    assert jobs.get_job(session, user=pro, job_id=now.id).status == "done"


def test_the_worker_runs_the_task_jobs_registered_on_its_queue() -> None:
    queue = get_huey()
    assert tasks_for(queue).run_job is dispatch.register(queue)
    assert dispatch.register(queue) is dispatch.register(queue)

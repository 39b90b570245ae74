"""A worker killed mid-delivery loses nothing: real worker processes, a real SIGKILL.

The receiver holds the first request open; the worker sending it is killed with SIGKILL (its
whole process group); a second worker's sweep finds the delivery once the lease runs out and
sends it again with the same webhook-id, which the receiver verifies and accepts.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select
from standardwebhooks import Webhook

from app.services.accounts.api_keys import create_key
from app.services.core.models import WebhookAttempt, WebhookDelivery
from app.services.webhooks.endpoints import create_endpoint
from app.services.webhooks.outbox import emit
from app.settings import Settings, reset_settings
from tests.utils.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.utils.job_helpers import Worker, make_user, wait_for, worker_env

pytestmark = pytest.mark.integration


def test_a_worker_killed_mid_delivery_loses_nothing(
    session: Session,
    isolated_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    reset_settings()
    hold = threading.Event()
    with WebhookReceiver() as receiver:
        receiver.script(Reply(hold=hold), Reply(200))
        owner = make_user(session, "dev@example.com")
        project_id = create_key(session, owner=owner).project_id
        secret = create_endpoint(
            session, project_id=project_id, url=receiver.url, events=["upload.completed"]
        ).secret
        session.commit()

        env = worker_env(
            isolated_settings,
            WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
            WEBHOOK_LEASE_SECONDS="3",
            WEBHOOK_SWEEP_SECONDS="0.5",
        )
        first = Worker(env, tmp_path / "worker1.log")
        workers = [first]
        try:
            (delivery_id,) = emit(
                session, project_id=project_id, event_type="upload.completed", data={"id": "up_1"}
            )
            session.commit()  # the kick queues it; the worker takes it
            receiver.wait_for(1)
            first.kill()  # mid-delivery: the request is open, nothing recorded yet
            hold.set()

            session.expire_all()
            row = session.get(WebhookDelivery, delivery_id)
            assert row is not None and (row.status, row.attempts) == ("pending", 0)
            assert row.leased_until is not None  # the dead worker's lease, left to run out

            second = Worker(env, tmp_path / "worker2.log")
            workers.append(second)
            requests = receiver.wait_for(2, timeout=60)
            assert [r.headers["webhook-id"] for r in requests] == [delivery_id, delivery_id]
            assert requests[1].body == requests[0].body
            Webhook(secret).verify(requests[1].body, requests[1].headers)

            def delivered() -> bool:
                session.expire_all()
                found = session.get(WebhookDelivery, delivery_id)
                return found is not None and found.status == "succeeded"

            wait_for(delivered, timeout=30, what="the delivery to succeed", workers=workers)
            attempts = session.exec(
                select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
            ).all()
            assert [a.status_code for a in attempts] == [200]
            assert len(receiver.requests) == 2
        finally:
            hold.set()
            for worker in workers:
                if worker.process.poll() is None:
                    worker.stop()

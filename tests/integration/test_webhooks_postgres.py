"""Webhook deliveries on a real PostgreSQL: leases, retries, 410 and replay, as on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session
from standardwebhooks import Webhook

from app.services.accounts.api_keys import create_key
from app.services.core.models import WebhookDelivery, WebhookEndpoint, utcnow
from app.services.webhooks import dispatch
from app.services.webhooks.deliveries import replay_delivery
from app.services.webhooks.endpoints import create_endpoint
from app.services.webhooks.outbox import emit
from app.settings import reset_settings
from tests.utils.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.utils.job_helpers import make_user, run_queue

pytestmark = pytest.mark.integration


def test_deliveries_retry_lease_disable_and_replay_on_postgres(
    pg_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_SCALE", "0")
    reset_settings()
    session = pg_session
    project_id = create_key(session, owner=make_user(session, "dev@example.com")).project_id
    with WebhookReceiver() as receiver:
        new = create_endpoint(
            session, project_id=project_id, url=receiver.url, events=["upload.completed"]
        )
        session.commit()
        receiver.script(Reply(500), Reply(200))
        (first,) = emit(session, project_id=project_id, event_type="upload.completed", data={})
        session.commit()
        run_queue()
        assert dispatch.sweep() == [first]
        run_queue()
        assert receiver.ids() == [first, first]
        for request in receiver.requests:
            Webhook(new.secret).verify(request.body, request.headers)
        session.expire_all()
        row = session.get(WebhookDelivery, first)
        assert row is not None and (row.status, row.attempts) == ("succeeded", 2)

        (held,) = emit(session, project_id=project_id, event_type="upload.completed", data={})
        row = session.get(WebhookDelivery, held)
        assert row is not None
        row.leased_until = utcnow() + timedelta(minutes=1)
        session.add(row)
        session.commit()
        run_queue()
        assert dispatch.sweep() == [] and len(receiver.requests) == 2
        row.leased_until = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
        receiver.script(Reply(410))
        assert dispatch.sweep() == [held]
        run_queue()
        session.expire_all()
        endpoint = session.get(WebhookEndpoint, new.id)
        assert endpoint is not None and not endpoint.enabled
        assert session.get(WebhookDelivery, held).status == "failed"  # type: ignore[union-attr]

        endpoint.enabled = True
        session.add(endpoint)
        session.commit()
        receiver.script(Reply(200))
        replay_delivery(session, delivery_id=held, project_id=project_id)
        session.commit()
        run_queue()
        session.expire_all()
        assert session.get(WebhookDelivery, held).status == "succeeded"  # type: ignore[union-attr]
        assert receiver.ids()[-1] == held

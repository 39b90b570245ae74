"""/admin/system's services on SQLite: health with Redis, the queue, worker heartbeats, errors,
failing webhooks, provider error rates and the email outbox; admins only.

The `check_*` functions take any migrated session: tests/integration/test_admin_system_postgres.py
runs them on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from app.services.accounts import auth
from app.services.core.errors import NotFoundError, PermissionDeniedError
from app.services.core.health import check_health
from app.services.core.models import (
    EmailMessage,
    ErrorEvent,
    Project,
    ProviderCall,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WorkerHeartbeat,
)
from app.services.core.queue import get_huey, task_once
from app.services.notify.render import render
from app.services.ops import email_outbox, error_log, provider_rates, webhook_failures, workers
from app.services.ops.queue_status import queue_status, read_queue
from app.settings import reset_settings

PASSWORD = "a long passphrase here"


def now() -> datetime:
    return datetime.now(UTC)


def people(session: Session) -> tuple[User, User]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=PASSWORD)
    ada = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    return admin, ada


def add_error(session: Session, reference: str, message: str, minutes_ago: int = 0) -> None:
    session.add(
        ErrorEvent(
            reference=reference,
            source="page",
            location="AdminState.load_admin",
            error_type="ZeroDivisionError",
            message=message,
            created_at=now() - timedelta(minutes=minutes_ago),
        )
    )


# -- health -------------------------------------------------------------------------------------


def test_redis_not_configured_is_a_state_not_a_fault(db_url: str) -> None:
    report = check_health()
    assert report.checks["redis"] == {"status": "not configured"}
    assert report.ok


def test_unreachable_redis_is_down(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1 of loopback: the connection is refused at once.
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    reset_settings()
    report = check_health()
    assert report.checks["redis"] == {"status": "down"}
    assert not report.ok
    assert "hunter2" not in str(report.as_dict())


# -- queue --------------------------------------------------------------------------------------


def _noop(_n: int) -> None:
    """A task nobody runs here: the test only looks at the queue."""


def check_queue_depth_and_oldest() -> None:
    huey = get_huey()
    huey.flush()
    empty = read_queue(huey)
    assert (empty.waiting, empty.oldest_at) == (0, None)
    task = task_once(huey, _noop, name="admin_system_noop")
    before = now()
    task(1)
    first_done = now()
    task.s(2).then(task, 3)  # built, never enqueued: counts for nothing
    huey.enqueue(task.s(4, priority=100))  # jumps the line, but is younger
    status = read_queue(huey)
    assert status.waiting == 2
    assert status.oldest_at is not None
    # The oldest is the first task put in, not the one that runs next.
    assert before - timedelta(seconds=1) <= status.oldest_at <= first_done + timedelta(seconds=1)
    assert status.oldest_age_seconds(status.oldest_at + timedelta(seconds=90)) == 90
    huey.flush()


def test_queue_depth_and_oldest_task_on_sqlite(db_url: str) -> None:
    check_queue_depth_and_oldest()


def test_queue_status_is_for_admins_only(session: Session) -> None:
    admin, ada = people(session)
    assert queue_status(actor=admin).waiting == 0
    with pytest.raises(PermissionDeniedError):
        queue_status(actor=ada)


# -- workers ------------------------------------------------------------------------------------


def check_heartbeats(session: Session) -> None:
    admin, ada = people(session)
    writer = workers.HeartbeatWriter(hostname="box", pid=4242)
    writer.task_started("t1", "run_job")
    writer.task_started("t2", "send_webhook")
    writer.beat()
    writer.task_finished("t1")
    writer.task_finished("t1")  # a retried failure signals twice: counted once
    writer.beat()
    session.add(
        WorkerHeartbeat(
            id="old:1:1", hostname="old", pid=1, last_seen_at=now() - timedelta(minutes=5)
        )
    )
    session.add(
        WorkerHeartbeat(
            id="gone:2:2", hostname="gone", pid=2, last_seen_at=now() - timedelta(days=2)
        )
    )
    session.commit()
    seen = workers.list_workers(session, actor=admin, now=now())
    assert [(w.hostname, w.stale) for w in seen] == [("box", False), ("old", True), ("gone", True)]
    assert (seen[0].tasks_done, seen[0].current_task, seen[0].pid) == (1, "send_webhook", 4242)
    with pytest.raises(PermissionDeniedError):
        workers.list_workers(session, actor=ada, now=now())

    assert workers.prune_workers(session, now=now()) == 1
    session.commit()
    writer.stop()  # a clean exit removes its own row
    session.expire_all()
    assert [w.hostname for w in workers.list_workers(session, actor=admin, now=now())] == ["old"]


def test_heartbeats_stale_workers_and_pruning(session: Session) -> None:
    check_heartbeats(session)


# -- errors -------------------------------------------------------------------------------------


def check_error_search(session: Session) -> None:
    admin, ada = people(session)
    add_error(session, "3f2a9c01b7de", "division by zero", minutes_ago=5)
    add_error(session, "77aa00bb11cc", "100% of the disk is full", minutes_ago=1)
    add_error(session, "abc_def_0001", "a plain failure", minutes_ago=3)
    add_error(session, "abcxdef00002", "another failure", minutes_ago=9)
    session.commit()

    newest_first = error_log.search_errors(session, actor=admin)
    assert [r.reference for r in newest_first.rows] == [
        "77aa00bb11cc",
        "abc_def_0001",
        "3f2a9c01b7de",
        "abcxdef00002",
    ]
    pasted = "Something went wrong on our side. Reference: 3f2a9c01b7de."
    for query in (pasted, "3f2a9c01b7de", "  3F2A9C ", "Reference: 3f2a"):
        found = error_log.search_errors(session, actor=admin, query=query)
        assert [r.reference for r in found.rows] == ["3f2a9c01b7de"], query
    assert [
        r.reference for r in error_log.search_errors(session, actor=admin, query="disk").rows
    ] == ["77aa00bb11cc"]
    # The admin's % and _ are literal characters, not wildcards.
    assert [
        r.reference for r in error_log.search_errors(session, actor=admin, query="100%").rows
    ] == ["77aa00bb11cc"]
    assert error_log.search_errors(session, actor=admin, query="%").total == 1
    assert [
        r.reference for r in error_log.search_errors(session, actor=admin, query="abc_d").rows
    ] == ["abc_def_0001"]
    assert error_log.search_errors(session, actor=admin, query="nothing like it").rows == []
    assert error_log.search_errors(session, actor=admin, query="' OR 1=1 --").rows == []
    assert error_log.search_errors(session, actor=admin, query="x" * 10_000).rows == []
    assert error_log.search_errors(session, actor=admin, query="   ").total == 4
    with pytest.raises(PermissionDeniedError):
        error_log.search_errors(session, actor=ada)


def test_error_search(session: Session) -> None:
    check_error_search(session)


def test_errors_are_paginated(session: Session) -> None:
    admin, _ = people(session)
    for i in range(error_log.PAGE_SIZE + 3):
        add_error(session, f"ref{i:04d}", "boom", minutes_ago=i)
    session.commit()
    first = error_log.search_errors(session, actor=admin)
    second = error_log.search_errors(session, actor=admin, page=2)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (23, 2, 20, 3)
    assert first.rows[0].reference == "ref0000"
    assert second.rows[-1].reference == "ref0022"
    # Out-of-range pages land on the nearest real one.
    assert error_log.search_errors(session, actor=admin, page=99).page == 2
    assert error_log.search_errors(session, actor=admin, page=-4).page == 1


# -- webhooks -----------------------------------------------------------------------------------


def check_failing_webhooks(session: Session) -> None:
    admin, ada = people(session)
    project = Project(owner_id=ada.id or 0, name="Shop uploads")
    session.add(project)
    session.flush()
    since = now() - timedelta(hours=3)
    healthy = WebhookEndpoint(
        project_id=project.id or 0, url="https://ok.example/h", secret_enc="x"
    )
    failing = WebhookEndpoint(
        project_id=project.id or 0,
        url="https://down.example/h",
        secret_enc="x",
        failing_since=since,
    )
    disabled = WebhookEndpoint(
        project_id=project.id or 0,
        url="https://gone.example/h",
        secret_enc="x",
        enabled=False,
        disabled_at=now() - timedelta(hours=1),
        disabled_reason="failing for 5 days",
    )
    session.add_all([healthy, failing, disabled])
    session.flush()
    delivery = WebhookDelivery(
        id="msg_1",
        endpoint_id=failing.id or 0,
        project_id=project.id or 0,
        event_type="x",
        payload="{}",
    )
    session.add(delivery)
    session.flush()
    session.add_all(
        [
            WebhookAttempt(
                delivery_id="msg_1",
                endpoint_id=failing.id or 0,
                status_code=500,
                attempted_at=now() - timedelta(minutes=30),
            ),
            WebhookAttempt(
                delivery_id="msg_1",
                endpoint_id=failing.id or 0,
                error="connection refused",
                attempted_at=now() - timedelta(minutes=5),
            ),
        ]
    )
    session.commit()
    found = webhook_failures.failing_endpoints(session, actor=admin)
    assert [(e.url, e.enabled, e.project_name) for e in found] == [
        ("https://down.example/h", True, "Shop uploads"),
        ("https://gone.example/h", False, "Shop uploads"),
    ]
    assert found[0].last_error == "connection refused"
    assert found[0].since is not None and abs((found[0].since - since).total_seconds()) < 1
    assert (found[1].last_error, found[1].disabled_reason) == (None, "failing for 5 days")
    with pytest.raises(PermissionDeniedError):
        webhook_failures.failing_endpoints(session, actor=ada)


def test_failing_webhooks(session: Session) -> None:
    check_failing_webhooks(session)


# -- provider rates -----------------------------------------------------------------------------


def check_provider_rates(session: Session) -> None:
    admin, ada = people(session)
    at = now()

    def call(provider: str, kind: str | None, minutes_ago: float) -> ProviderCall:
        return ProviderCall(
            provider=provider,
            operation="analysis",
            error_kind=kind,
            created_at=at - timedelta(minutes=minutes_ago),
        )

    session.add_all(
        [
            call("openrouter", None, 1),
            call("openrouter", None, 2),
            call("openrouter", "timeout", 2),
            call("openrouter", "rate_limited", 12),
            call("together", "server_error", 50),
            call("together", None, 40),
            call("fal", None, 3),
            call("fal", "timeout", 90),  # older than the hour
        ]
    )
    session.commit()
    rates = provider_rates.provider_rates(session, actor=admin, now=at)
    assert [(p.provider, p.calls, p.errors) for p in rates.providers] == [
        ("openrouter", 4, 2),
        ("together", 2, 1),
        ("fal", 1, 0),
    ]
    assert rates.providers[0].rate == 0.5
    assert sorted((k.provider, k.error_kind, k.count) for k in rates.kinds) == [
        ("openrouter", "rate_limited", 1),
        ("openrouter", "timeout", 1),
        ("together", "server_error", 1),
    ]
    assert len(rates.buckets) == 12
    assert rates.buckets[-1][1] == {"openrouter": 1}  # 2 minutes ago
    assert rates.buckets[-3][1] == {"openrouter": 1}  # 12 minutes ago
    assert rates.buckets[2][1] == {"together": 1}  # 50 minutes ago: 10 into the hour
    assert sum(sum(b.values()) for _, b in rates.buckets) == 3
    with pytest.raises(PermissionDeniedError):
        provider_rates.provider_rates(session, actor=ada, now=at)


def test_provider_rates_over_the_last_hour(session: Session) -> None:
    check_provider_rates(session)


# -- email outbox -------------------------------------------------------------------------------


def check_outbox(session: Session) -> None:
    admin, ada = people(session)
    for i, status in enumerate(["outbox", "sent", "failed", "outbox"]):
        session.add(
            EmailMessage(
                user_id=ada.id,
                to_address="ada@example.com",
                kind="low_credits",
                subject=f"Message {i}",
                context={"balance": i, "url": "https://app.example/credits"},
                status=status,
                last_error="550 mailbox full" if status == "failed" else None,
                created_at=now() - timedelta(minutes=10 - i),
            )
        )
    session.commit()
    listed = email_outbox.list_emails(session, actor=admin)
    assert [r.subject for r in listed.rows] == ["Message 3", "Message 2", "Message 1", "Message 0"]
    only_outbox = email_outbox.list_emails(session, actor=admin, status="outbox")
    assert [r.subject for r in only_outbox.rows] == ["Message 3", "Message 0"]
    # An unknown status filter shows everything rather than nothing.
    assert email_outbox.list_emails(session, actor=admin, status="bogus").total == 4
    failed = next(r for r in listed.rows if r.status == "failed")
    detail = email_outbox.read_email(session, actor=admin, email_id=failed.id)
    assert (detail.row.subject, detail.last_error) == ("Message 2", "550 mailbox full")
    assert detail.text == "balance: 2\nurl: https://app.example/credits"
    with pytest.raises(NotFoundError):
        email_outbox.read_email(session, actor=admin, email_id=999_999)
    with pytest.raises(PermissionDeniedError):
        email_outbox.read_email(session, actor=ada, email_id=failed.id)
    with pytest.raises(PermissionDeniedError):
        email_outbox.list_emails(session, actor=ada)


def test_email_outbox(session: Session) -> None:
    check_outbox(session)


def test_outbox_uses_the_renderer_it_is_given(session: Session) -> None:
    admin, ada = people(session)
    message = EmailMessage(to_address="ada@example.com", kind="low_credits", subject="Low")
    session.add(message)
    session.commit()
    detail = email_outbox.read_email(
        session, actor=admin, email_id=message.id or 0, render_text=lambda m: f"Dear {m.to_address}"
    )
    assert detail.text == "Dear ada@example.com"


def test_outbox_shows_the_text_the_recipient_gets(session: Session) -> None:
    admin, ada = people(session)
    context = {"balance": 3, "threshold": 10, "url": "https://app.example/credits"}
    message = EmailMessage(
        user_id=ada.id, to_address=ada.email, kind="low_credits", subject="Low", context=context
    )
    session.add(message)
    session.commit()
    detail = email_outbox.read_email(session, actor=admin, email_id=message.id or 0)
    assert detail.text == render(message).text
    assert "https://app.example/credits" in detail.text


def test_the_chart_keeps_six_colours_and_lumps_the_rest(session: Session) -> None:
    from app.state import admin_system_views as views

    admin, _ = people(session)
    at = now()
    names = [f"vendor.{i}" for i in range(8)]  # dotted: never a chart key
    session.add_all(
        ProviderCall(provider=name, operation="generation", error_kind="timeout", created_at=at)
        for name in names
    )
    session.commit()
    shown = views.providers(provider_rates.provider_rates(session, actor=admin, now=at))
    assert [s["key"] for s in shown["series"]] == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert shown["series"][-1]["name"] == "other providers"
    last = shown["chart"][-1]
    assert (last["p0"], last["p5"]) == (1, 3)
    assert all("." not in key for row in shown["chart"] for key in row)

"""Emails end to end: notify() in a transaction, the real huey queue run inline (as a worker
would), and a real SMTP server on loopback (aiosmtpd). What arrives is parsed with the stdlib
`email` package; its List-Unsubscribe link is POSTed to the live API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.services.core.models import EmailMessage, User, utcnow
from app.services.core.queue import get_huey
from app.services.notify import dispatch
from app.services.notify.outbox import notify
from app.services.notify.preferences import set_email_preference
from app.services.notify.render import render
from app.services.notify.schedule import MAX_ATTEMPTS, RETRY_DELAYS
from app.services.notify.sender import NOT_WANTED, claim, send_email
from app.settings import reset_settings
from tests.utils.fakes.smtp_server import SmtpServer
from tests.utils.job_helpers import make_user, run_queue
from tests.utils.live_api import free_port, serving_api
from tests.utils.self_signed import self_signed_cert

JOB = {
    "job_id": 7,
    "job_name": "Holiday <photos>",
    "status": "done",
    "items_done": 12,
    "items_failed": 1,
    "error": None,
    "url": "/studio?job=7",
}


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("SMTP_STARTTLS", "false")
        monkeypatch.setenv("SMTP_FROM", "JSONCraft <mail@jsoncraft.example>")
        monkeypatch.setenv("SMTP_TIMEOUT_SECONDS", "5")
        reset_settings()
        yield server


@pytest.fixture
def user(session: Session) -> User:
    return make_user(session, "ada@example.com")


def _notify(session: Session, user: User, context: dict[str, Any] | None = None) -> int:
    ctx = context or JOB
    message = notify(
        session,
        user=user,
        kind="studio_job_finished",
        subject=f"Studio job “{ctx['job_name']}” is done",
        context=ctx,
        dedupe_key=f"studio_job:{ctx['job_id']}",
    )
    session.commit()
    assert message is not None and message.id is not None
    return message.id


def _row(session: Session, email_id: int) -> EmailMessage:
    session.expire_all()
    row = session.get(EmailMessage, email_id)
    assert row is not None
    return row


def test_an_email_arrives_with_both_parts_its_headers_and_a_working_one_click_unsubscribe(
    session: Session, user: User, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("APP_URL", "https://app.jsoncraft.example")
    reset_settings()
    email_id = _notify(session, user)
    run_queue()  # kicked by the commit, no sweep needed

    (received,) = smtp.messages
    row = _row(session, email_id)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert received["Message-ID"] == row.message_id
    assert row.message_id.endswith("@jsoncraft.example>")
    assert received["To"] == "ada@example.com"
    assert received["From"] == "JSONCraft <mail@jsoncraft.example>"
    assert received["Subject"] == "Studio job “Holiday <photos>” is done"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = received.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Holiday <photos>" in text and "Images done: 12" in text
    assert "Holiday &lt;photos&gt;" in html and "<photos>" not in html  # escaped
    assert 'href="https://app.jsoncraft.example/studio?job=7"' in html
    assert "Why you got this" in text and "https://app.jsoncraft.example/account#email" in html
    assert "https://app.jsoncraft.example/unsubscribe?token=" in html

    link = received["List-Unsubscribe"].strip()
    assert link.startswith(f"<http://127.0.0.1:{port}/api/unsubscribe?token=") and link[-1] == ">"
    with serving_api(port):
        answer = httpx.post(
            link[1:-1],
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "studio_job_finished",
        "label": "a studio job is done or failed",
        "enabled": False,
    }
    session.refresh(user)
    assert user.email_opt_out == ["studio_job_finished"]
    # Switched off: the next job's email is not even written.
    assert notify(session, user=user, kind="studio_job_finished", subject="x",
                  context={**JOB, "job_id": 8}) is None  # fmt: skip


def test_a_rolled_back_email_is_never_sent(session: Session, user: User, smtp: SmtpServer) -> None:
    notify(session, user=user, kind="studio_job_finished", subject="x", context=JOB)
    session.rollback()
    assert run_queue() == [] and dispatch.sweep() == [] and smtp.attempts == []


def test_a_4xx_answer_is_retried_later_with_the_same_message_id(
    session: Session, user: User, smtp: SmtpServer
) -> None:
    smtp.script("451 4.3.0 Mailbox busy, try again later")
    before = utcnow()
    email_id = _notify(session, user)
    run_queue()
    row = _row(session, email_id)
    assert row.status == "queued" and row.attempts == 1 and smtp.messages == []
    assert row.last_error is not None and "451" in row.last_error
    assert row.next_attempt_at is not None and row.next_attempt_at >= before + RETRY_DELAYS[0]
    first_id = row.message_id

    assert dispatch.sweep() == []  # not due for a minute
    assert dispatch.sweep(now=before + timedelta(seconds=61)) == [email_id]
    huey = get_huey()
    task = huey.dequeue()
    assert task is not None and task.args == (email_id,)
    assert send_email(email_id, now=before + timedelta(seconds=61)) == "sent"
    (received,) = smtp.messages
    row = _row(session, email_id)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    assert received["Message-ID"] == first_id == row.message_id
    assert smtp.attempts == [first_id, first_id]  # the same email, offered twice


def test_temporary_failures_follow_the_schedule_then_the_email_fails(
    session: Session, user: User, smtp: SmtpServer
) -> None:
    smtp.script(*["421 4.7.0 Too many connections"] * MAX_ATTEMPTS)
    email_id = _notify(session, user)
    now = utcnow()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert send_email(email_id, now=now) in ("queued", "failed")
        row = _row(session, email_id)
        if row.next_attempt_at is not None:
            waits.append(round((row.next_attempt_at - utcnow()).total_seconds() / 60))
            now = row.next_attempt_at + timedelta(seconds=1)
    row = _row(session, email_id)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS == 6
    assert waits == [1, 5, 30, 120, 360]
    assert len(smtp.attempts) == 6 and smtp.messages == []
    assert dispatch.sweep(now=now + timedelta(days=1)) == []


def test_a_5xx_rejection_fails_at_once(session: Session, user: User, smtp: SmtpServer) -> None:
    smtp.script("550 5.1.1 No such user here")
    email_id = _notify(session, user)
    run_queue()
    row = _row(session, email_id)
    assert row.status == "failed" and row.attempts == 1 and row.next_attempt_at is None
    assert row.last_error == "SMTP server answered 550 5.1.1 No such user here"
    assert dispatch.sweep(now=utcnow() + timedelta(days=1)) == []


def test_a_refused_connection_is_retried(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nobody listens there
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    reset_settings()
    email_id = _notify(session, user)
    run_queue()
    row = _row(session, email_id)
    assert row.status == "queued" and row.attempts == 1
    assert row.last_error == f"Could not reach 127.0.0.1:{port}: ConnectionRefusedError."


def test_starttls_and_login_against_a_submission_server(
    session: Session, user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_cert(tmp_path)
    with SmtpServer(tls_files=(cert, key), users={"mailer": "s3cret-pass"}) as server:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("SMTP_STARTTLS", "true")
        monkeypatch.setenv("SMTP_CA_FILE", str(cert))
        monkeypatch.setenv("SMTP_USERNAME", "mailer")
        monkeypatch.setenv("SMTP_PASSWORD", "wrong")
        reset_settings()
        email_id = _notify(session, user)
        run_queue()
        row = _row(session, email_id)
        assert row.status == "queued" and row.last_error is not None
        assert row.last_error.startswith("SMTP login refused: 535")
        assert "wrong" not in row.last_error and server.messages == []

        monkeypatch.setenv("SMTP_PASSWORD", "s3cret-pass")  # the admin fixes the setting
        reset_settings()
        assert send_email(email_id, now=utcnow() + timedelta(minutes=2)) == "sent"
        (received,) = server.messages
        assert server.logins == ["mailer"]
        assert received["To"] == "ada@example.com"


def test_an_untrusted_certificate_or_no_starttls_keeps_the_email_queued(
    session: Session, user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_cert(tmp_path)
    with SmtpServer(tls_files=(cert, key)) as server:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        reset_settings()  # STARTTLS on, but the system CAs don't know this certificate
        email_id = _notify(session, user)
        run_queue()
        row = _row(session, email_id)
        assert row.status == "queued" and row.last_error is not None
        assert row.last_error.startswith("TLS with 127.0.0.1 failed")
    with SmtpServer() as plain:  # offers no STARTTLS: we refuse to send in clear
        monkeypatch.setenv("SMTP_PORT", str(plain.port))
        reset_settings()
        assert send_email(email_id, now=utcnow() + timedelta(minutes=2)) == "queued"
        assert "does not offer STARTTLS" in (_row(session, email_id).last_error or "")
        assert plain.attempts == []


def test_with_no_smtp_host_mail_goes_to_the_outbox(session: Session, user: User) -> None:
    email_id = _notify(session, user)
    row = _row(session, email_id)
    assert row.status == "outbox" and row.next_attempt_at is None
    assert get_huey().pending_count() == 0 and dispatch.sweep() == []
    shown = render(row)  # what /admin/system shows
    assert shown.subject == "Studio job “Holiday <photos>” is done"
    assert "Images done: 12" in shown.text and "Holiday &lt;photos&gt;" in shown.html


def test_an_email_switched_off_after_it_was_queued_is_not_sent(
    session: Session, user: User, smtp: SmtpServer
) -> None:
    email_id = _notify(session, user)
    set_email_preference(session, user=user, kind="studio_job_finished", enabled=False)
    session.commit()
    run_queue()
    row = _row(session, email_id)
    assert row.status == "failed" and row.last_error == NOT_WANTED and smtp.attempts == []


def test_a_worker_killed_mid_send_leaves_a_lease_that_runs_out_and_the_email_goes_again(
    session: Session, user: User, smtp: SmtpServer
) -> None:
    huey = get_huey()
    email_id = _notify(session, user)
    huey.flush()  # the kick's task is lost with its worker
    lease = claim(email_id)  # what the killed worker did before dying mid-send
    assert lease is not None
    assert dispatch.sweep() == [] and send_email(email_id) is None  # held by the lease
    later = lease + timedelta(seconds=1)
    assert dispatch.sweep(now=later) == [email_id]
    assert send_email(email_id, now=later) == "sent"
    assert len(smtp.messages) == 1 and _row(session, email_id).attempts == 1


def test_the_same_dedupe_key_sends_one_email(
    session: Session, user: User, smtp: SmtpServer
) -> None:
    _notify(session, user)
    again = notify(session, user=user, kind="studio_job_finished", subject="x", context=JOB,
                   dedupe_key="studio_job:7")  # fmt: skip
    session.commit()
    run_queue()
    assert again is None and len(smtp.messages) == 1

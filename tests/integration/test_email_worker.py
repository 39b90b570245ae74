"""A worker killed mid-send loses no email: real worker processes, a real SIGKILL, a real SMTP
server on loopback.

The SMTP server holds the first DATA unanswered; the worker sending it is killed with SIGKILL
(its whole process group); a second worker's sweep finds the email once the dead worker's lease
runs out (8 x SMTP_TIMEOUT_SECONDS) and sends it again with the same Message-ID.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlmodel import Session

from app.services.core.models import EmailMessage
from app.services.notify.outbox import notify
from app.settings import Settings, reset_settings
from tests.utils.fakes.smtp_server import SmtpServer
from tests.utils.job_helpers import Worker, make_user, wait_for, worker_env

pytestmark = pytest.mark.integration

CONTEXT = {"balance": 3, "threshold": 10, "url": "/credits"}


def test_a_worker_killed_mid_send_loses_no_email(
    session: Session,
    isolated_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    hold = threading.Event()
    with SmtpServer() as smtp:
        smtp_env = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_STARTTLS": "false",
            "SMTP_TIMEOUT_SECONDS": "2",  # a lease of 16 s
        }
        for name, value in smtp_env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        user = make_user(session, "ada@example.com")
        env = worker_env(isolated_settings, **smtp_env)
        smtp.script("421 4.4.2 held, then dropped")  # what the held DATA hears, if anyone
        smtp.hold_next(hold)
        first = Worker(env, tmp_path / "worker1.log")
        workers = [first]
        try:
            message = notify(session, user=user, kind="low_credits",
                             subject="Your credits are running low", context=CONTEXT)  # fmt: skip
            assert message is not None and message.id is not None
            email_id = message.id
            session.commit()  # the kick queues it; the worker takes it

            wait_for(lambda: len(smtp.attempts) == 1, timeout=60, what="the first DATA",
                     workers=workers)  # fmt: skip
            first.kill()  # mid-send: DATA is in, no answer yet, nothing recorded
            hold.set()
            session.expire_all()
            row = session.get(EmailMessage, email_id)
            assert row is not None and (row.status, row.attempts) == ("queued", 0)
            assert row.leased_until is not None  # the dead worker's lease, left to run out

            second = Worker(env, tmp_path / "worker2.log")
            workers.append(second)

            def sent() -> bool:
                session.expire_all()
                found = session.get(EmailMessage, email_id)
                return found is not None and found.status == "sent"

            wait_for(sent, timeout=90, what="the email to be sent", workers=workers)
            row = session.get(EmailMessage, email_id)
            assert row is not None and row.attempts == 1
            assert smtp.attempts == [row.message_id, row.message_id]
            assert [m["Message-ID"] for m in smtp.messages] == [row.message_id]
        finally:
            hold.set()
            for worker in workers:
                if worker.process.poll() is None:
                    worker.stop()

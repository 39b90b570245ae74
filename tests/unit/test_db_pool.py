"""The connection pool fits the queue worker's threads (`app.cli worker --workers N`).

Found by benchmarks/generation_ui_load.py: with 20 worker threads, each generation run holds a
session over its provider call and then opens the credit ledger's own transaction; SQLAlchemy's
default pool (5 + 10) ran dry, and every thread waited 30 s on it and failed.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from app.services.billing import credits
from app.services.core import db
from app.services.core.db import session_scope, size_pool_for
from app.services.core.models import User
from tests.utils.prompt_factories import make_user

THREADS = 20


@pytest.fixture
def worker_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sized as the worker does, before the test's engine is made; the size is put back after."""
    monkeypatch.setattr(db, "_max_overflow", db._max_overflow)
    size_pool_for(THREADS)


def test_every_worker_thread_can_write_the_ledger_while_it_holds_a_session(
    worker_pool: None, session: Session
) -> None:
    user = make_user(session, "ada")
    session.commit()
    assert user.id is not None
    user_id = user.id
    all_holding = threading.Barrier(THREADS, timeout=10)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with session_scope() as held:  # a run's session, kept over the provider call
                held.exec(select(User.id)).first()
                all_holding.wait()  # every thread has its connection now
                credits.purchase(held, user_id=user_id, amount=1, reason="pool test",
                                 idempotency_key=f"pool:{i}")  # fmt: skip
        except BaseException as e:  # noqa: BLE001  reported by the assert below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    assert credits.balance(session, user_id=user_id) == THREADS

"""The credit ledger on a real PostgreSQL: the per-user row lock keeps balances at zero or more."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.billing import credits
from app.services.billing.credits import ReservationStatus
from app.services.core.db import engine_for
from app.services.core.errors import ConflictError, InsufficientCreditsError, InvalidInputError
from app.services.core.models import CreditEntry, User
from tests.unit.test_credits import race_reservations

pytestmark = pytest.mark.integration


@pytest.fixture
def people(pg_session: Session) -> tuple[User, User]:
    admin, _ = auth.ensure_admin(pg_session, email="boss@example.com", password=None)
    ada = auth.create_user(pg_session, email="ada@example.com", password=None)
    pg_session.commit()
    return admin, ada


def uid(user: User) -> int:
    assert user.id is not None
    return user.id


def test_flow_and_idempotency_on_postgres(pg_session: Session, people: tuple[User, User]) -> None:
    admin, ada = people
    for _ in range(2):
        credits.grant(
            pg_session,
            user_id=uid(ada),
            amount=10,
            reason="welcome",
            actor=admin,
            idempotency_key="w",
        )
    held = credits.reserve(pg_session, user_id=uid(ada), amount=4, idempotency_key="job")
    assert credits.reserve(pg_session, user_id=uid(ada), amount=4, idempotency_key="job") == held
    with pytest.raises(InsufficientCreditsError):
        credits.reserve(pg_session, user_id=uid(ada), amount=7, idempotency_key="big")
    done = credits.commit(pg_session, key="job", actual=9)  # 5 extra, balance 6 covers it
    assert (done.status, done.charged) == (ReservationStatus.committed, 9)
    with pytest.raises(ConflictError):
        credits.refund(pg_session, key="job")
    with pytest.raises(InvalidInputError):
        credits.revoke(
            pg_session, user_id=uid(ada), amount=2, reason="x", actor=admin, idempotency_key="r"
        )
    assert credits.balance(pg_session, user_id=uid(ada)) == 1
    kinds = [e.kind for e in credits.history(pg_session, user_id=uid(ada)).entries]
    assert kinds == ["commit", "reserve", "grant"]
    assert [u.spent for u in credits.usage_by_day(pg_session, user_id=uid(ada), days=1)] == [9]


def test_fifty_concurrent_reservations_never_overdraw_on_postgres(
    pg_session: Session, pg_url: str, people: tuple[User, User]
) -> None:
    admin, ada = people
    credits.grant(
        pg_session, user_id=uid(ada), amount=30, reason="race", actor=admin, idempotency_key="g"
    )
    reserved, refused = race_reservations(pg_url, user_id=uid(ada))
    assert (reserved, refused) == (30, 20)
    assert credits.balance(pg_session, user_id=uid(ada)) == 0
    total = pg_session.exec(
        select(func.sum(CreditEntry.amount)).where(CreditEntry.user_id == uid(ada))
    ).one()
    assert total == 0
    reserves = pg_session.exec(
        select(func.count()).where(CreditEntry.user_id == uid(ada), CreditEntry.kind == "reserve")
    ).one()
    assert reserves == 30


def test_admins_granting_to_each_other_at_once_do_not_deadlock(
    pg_session: Session, pg_url: str, people: tuple[User, User]
) -> None:
    # Each grant locks the receiver and references the giver (created_by); FOR UPDATE would
    # make these two wait on each other. FOR NO KEY UPDATE lets both finish.
    admin, _ = people
    other = auth.create_user(pg_session, email="root@example.com", password=None)
    other.role = "admin"
    pg_session.commit()
    engine = engine_for(pg_url)
    barrier = threading.Barrier(20)

    def attempt(i: int) -> None:
        giver, taker = (admin, other) if i % 2 else (other, admin)
        with Session(engine) as s:
            barrier.wait()
            credits.grant(
                s, user_id=uid(taker), amount=1, reason="swap", actor=giver, idempotency_key=f"{i}"
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(attempt, range(20)))
    assert credits.balance(pg_session, user_id=uid(admin)) == 10
    assert credits.balance(pg_session, user_id=uid(other)) == 10

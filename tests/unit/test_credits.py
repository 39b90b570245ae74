"""The credit ledger: admin grants, reserve/commit/refund, idempotency, never below zero."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.services.accounts import auth
from app.services.billing import credits
from app.services.billing.credits import ReservationStatus
from app.services.core.db import engine_for
from app.services.core.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientCreditsError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UserFacingError,
)
from app.services.core.models import CreditEntry, User, utcnow


@pytest.fixture
def admin(session: Session) -> User:
    user, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
    session.commit()
    return user


@pytest.fixture
def ada(session: Session) -> User:
    user = auth.create_user(session, email="ada@example.com", password=None)
    session.commit()
    return user


def uid(user: User) -> int:
    assert user.id is not None
    return user.id


def give(session: Session, admin: User, user: User, amount: int, key: str = "seed") -> None:
    credits.grant(
        session,
        user_id=uid(user),
        amount=amount,
        reason="test credits",
        actor=admin,
        idempotency_key=key,
    )


def ledger(session: Session, user: User) -> list[CreditEntry]:
    return list(
        session.exec(
            select(CreditEntry)
            .where(CreditEntry.user_id == uid(user))
            .order_by(col(CreditEntry.id))
        )
    )


def race_reservations(url: str, *, user_id: int, attempts: int = 50) -> tuple[int, int]:
    """`attempts` threads, each with its own Session, reserve 1 credit at the same moment.
    Returns (reserved, refused)."""
    engine = engine_for(url)
    barrier = threading.Barrier(attempts)

    def attempt(i: int) -> bool:
        with Session(engine) as s:
            barrier.wait()
            try:
                credits.reserve(s, user_id=user_id, amount=1, idempotency_key=f"race:{i}")
            except InsufficientCreditsError:
                return False
            return True

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        results = list(pool.map(attempt, range(attempts)))
    return results.count(True), results.count(False)


# -- admin grants and revokes ------------------------------------------------------------------


def test_only_admins_grant_or_revoke(session: Session, admin: User, ada: User) -> None:
    for actor, error in ((ada, PermissionDeniedError), (None, AuthenticationError)):
        with pytest.raises(error):
            credits.grant(
                session, user_id=uid(ada), amount=5, reason="x", actor=actor, idempotency_key="g"
            )
        with pytest.raises(error):
            credits.revoke(
                session, user_id=uid(ada), amount=5, reason="x", actor=actor, idempotency_key="r"
            )
    assert credits.balance(session, user_id=uid(ada)) == 0
    assert ledger(session, ada) == []


@pytest.mark.parametrize(
    ("amount", "reason", "key"),
    [(0, "ok", "k"), (-3, "ok", "k"), (True, "ok", "k"), (10**9, "ok", "k"), (5, "  ", "k")]
    + [(5, "x" * 501, "k"), (5, "ok", ""), (5, "ok", "k" * 191)],
)
def test_grant_refuses_bad_input(
    session: Session, admin: User, ada: User, amount: int, reason: str, key: str
) -> None:
    with pytest.raises(InvalidInputError):
        credits.grant(
            session,
            user_id=uid(ada),
            amount=amount,
            reason=reason,
            actor=admin,
            idempotency_key=key,
        )
    assert ledger(session, ada) == []


def test_grant_to_an_unknown_account_is_not_found(session: Session, admin: User) -> None:
    with pytest.raises(NotFoundError):
        credits.grant(
            session, user_id=9999, amount=5, reason="gift", actor=admin, idempotency_key="g"
        )


def test_a_repeated_grant_key_writes_one_entry(session: Session, admin: User, ada: User) -> None:
    first = credits.grant(
        session, user_id=uid(ada), amount=10, reason="welcome", actor=admin, idempotency_key="w"
    )
    again = credits.grant(
        session, user_id=uid(ada), amount=10, reason="welcome", actor=admin, idempotency_key="w"
    )
    assert again.id == first.id
    assert first.created_by == admin.id and first.reason == "welcome"
    assert credits.balance(session, user_id=uid(ada)) == 10
    assert len(ledger(session, ada)) == 1
    with pytest.raises(ConflictError, match="different request"):
        credits.grant(
            session, user_id=uid(ada), amount=99, reason="welcome", actor=admin, idempotency_key="w"
        )


def test_revoke_never_takes_the_balance_below_zero(
    session: Session, admin: User, ada: User
) -> None:
    give(session, admin, ada, 10)
    credits.reserve(session, user_id=uid(ada), amount=4, idempotency_key="held")
    with pytest.raises(InvalidInputError, match="the balance is 6"):
        credits.revoke(
            session, user_id=uid(ada), amount=7, reason="abuse", actor=admin, idempotency_key="r"
        )
    entry = credits.revoke(
        session, user_id=uid(ada), amount=6, reason="abuse", actor=admin, idempotency_key="r"
    )
    assert (entry.amount, entry.kind) == (-6, "revoke")
    assert credits.balance(session, user_id=uid(ada)) == 0


# -- reserve, commit, refund -------------------------------------------------------------------


def test_reserve_refuses_more_than_the_balance_and_says_both_numbers(
    session: Session, admin: User, ada: User
) -> None:
    give(session, admin, ada, 2)
    with pytest.raises(InsufficientCreditsError) as caught:
        credits.reserve(session, user_id=uid(ada), amount=3, idempotency_key="a1")
    err = caught.value
    assert isinstance(err, UserFacingError) and err.status_code == 402
    assert (err.balance, err.cost) == (2, 3)
    assert "costs 3 credits" in err.message and "balance is 2 credits" in err.message
    assert credits.balance(session, user_id=uid(ada)) == 2
    assert len(ledger(session, ada)) == 1


def test_a_repeated_reserve_key_holds_the_credits_once(
    session: Session, admin: User, ada: User
) -> None:
    give(session, admin, ada, 10)
    first = credits.reserve(
        session, user_id=uid(ada), amount=3, idempotency_key="analysis:1", reference="analysis:1"
    )
    again = credits.reserve(
        session, user_id=uid(ada), amount=3, idempotency_key="analysis:1", reference="analysis:1"
    )
    assert again == first
    assert (first.key, first.amount, first.status, first.charged) == (
        "analysis:1",
        3,
        ReservationStatus.held,
        None,
    )
    assert credits.balance(session, user_id=uid(ada)) == 7
    with pytest.raises(ConflictError):
        credits.reserve(session, user_id=uid(ada), amount=5, idempotency_key="analysis:1")


def test_keys_of_different_kinds_do_not_collide(session: Session, admin: User, ada: User) -> None:
    give(session, admin, ada, 10, key="same")
    held = credits.reserve(session, user_id=uid(ada), amount=1, idempotency_key="same")
    assert held.status == ReservationStatus.held
    assert credits.balance(session, user_id=uid(ada)) == 9


@pytest.mark.parametrize(
    ("start", "reserved", "actual", "balance_after", "charged", "note"),
    [
        (10, 5, 2, 8, 2, "Cost 2 of the 5 reserved"),
        (10, 5, 5, 5, 5, "Cost 5 of the 5 reserved"),
        (10, 5, 0, 10, 0, "Cost 0 of the 5 reserved"),
        (10, 5, 8, 2, 8, "3 more than the 5 reserved"),
        (6, 5, 8, 1, 5, "couldn't cover the extra 3: charged 5"),
    ],
)
def test_commit_settles_the_real_cost(
    session: Session,
    admin: User,
    ada: User,
    start: int,
    reserved: int,
    actual: int,
    balance_after: int,
    charged: int,
    note: str,
) -> None:
    give(session, admin, ada, start)
    held = credits.reserve(session, user_id=uid(ada), amount=reserved, idempotency_key="job")
    done = credits.commit(session, key=held.key, actual=actual)
    assert (done.status, done.charged) == (ReservationStatus.committed, charged)
    assert note in done.note
    assert credits.balance(session, user_id=uid(ada)) == balance_after
    # A retried commit (even with another number) changes nothing and returns the first result.
    assert credits.commit(session, reservation_id=held.id, actual=1) == done
    assert credits.balance(session, user_id=uid(ada)) == balance_after
    assert [e.kind for e in ledger(session, ada)] == ["grant", "reserve", "commit"]


def test_refund_returns_everything_once(session: Session, admin: User, ada: User) -> None:
    give(session, admin, ada, 10)
    held = credits.reserve(session, user_id=uid(ada), amount=4, idempotency_key="job")
    first = credits.refund(session, key="job")
    assert credits.refund(session, reservation_id=held.id) == first
    assert (first.status, first.charged) == (ReservationStatus.refunded, 0)
    assert credits.balance(session, user_id=uid(ada)) == 10
    assert [e.kind for e in ledger(session, ada)] == ["grant", "reserve", "refund"]
    assert credits.get_reservation(session, key="job") == first
    with pytest.raises(ConflictError, match="already refunded"):
        credits.commit(session, key="job", actual=4)


def test_a_refund_after_commit_is_refused(session: Session, admin: User, ada: User) -> None:
    give(session, admin, ada, 10)
    credits.reserve(session, user_id=uid(ada), amount=4, idempotency_key="job")
    credits.commit(session, key="job", actual=4)
    with pytest.raises(ConflictError, match="already charged"):
        credits.refund(session, key="job")
    assert credits.balance(session, user_id=uid(ada)) == 6
    assert [e.kind for e in ledger(session, ada)] == ["grant", "reserve", "commit"]


def test_settling_needs_one_known_reservation(session: Session, admin: User, ada: User) -> None:
    give(session, admin, ada, 10)
    held = credits.reserve(session, user_id=uid(ada), amount=1, idempotency_key="job")
    with pytest.raises(NotFoundError):
        credits.refund(session, key="nope")
    with pytest.raises(InvalidInputError):
        credits.refund(session)
    with pytest.raises(InvalidInputError):
        credits.commit(session, key="job", reservation_id=held.id, actual=1)
    with pytest.raises(InvalidInputError):
        credits.commit(session, key="job", actual=-1)
    with pytest.raises(NotFoundError):  # a grant's id is not a reservation
        credits.refund(session, reservation_id=ledger(session, ada)[0].id)


def test_entries_are_only_ever_added(session: Session, admin: User, ada: User) -> None:
    give(session, admin, ada, 10)
    credits.reserve(session, user_id=uid(ada), amount=3, idempotency_key="a")
    credits.reserve(session, user_id=uid(ada), amount=3, idempotency_key="b")
    before = [(e.id, e.amount, e.kind, e.reason) for e in ledger(session, ada)]
    credits.commit(session, key="a", actual=1)
    credits.refund(session, key="b")
    after = [(e.id, e.amount, e.kind, e.reason) for e in ledger(session, ada)]
    assert after[: len(before)] == before and len(after) == len(before) + 2
    assert credits.balance(session, user_id=uid(ada)) == sum(e[1] for e in after) == 9


def test_a_session_holding_sqlite_writes_is_refused_at_once(
    session: Session, admin: User, ada: User
) -> None:
    auth.create_user(session, email="bob@example.com", password=None)  # flushed, not committed
    started = time.monotonic()
    with pytest.raises(InternalError, match="Commit the session"):
        give(session, admin, ada, 1)
    assert time.monotonic() - started < 1  # not a 30 s wait on our own write lock
    session.rollback()


# -- reading the ledger ------------------------------------------------------------------------


def test_history_pages_newest_first_by_keyset(session: Session, admin: User, ada: User) -> None:
    for i in range(7):
        give(session, admin, ada, 1, key=f"g{i}")
    seen: list[int] = []
    before: int | None = None
    sizes = []
    while True:
        page = credits.history(session, user_id=uid(ada), limit=3, before_id=before)
        sizes.append(len(page.entries))
        seen += [e.id for e in page.entries if e.id is not None]
        if page.next_before_id is None:
            break
        before = page.next_before_id
    assert sizes == [3, 3, 1]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 7
    with pytest.raises(InvalidInputError):
        credits.history(session, user_id=uid(ada), limit=0)


def test_usage_by_day_counts_settled_costs_on_the_day_they_ran(
    session: Session, admin: User, ada: User
) -> None:
    give(session, admin, ada, 50)
    credits.reserve(session, user_id=uid(ada), amount=5, idempotency_key="yesterday")
    credits.commit(session, key="yesterday", actual=3)
    credits.reserve(session, user_id=uid(ada), amount=4, idempotency_key="failed")
    credits.refund(session, key="failed")
    credits.reserve(session, user_id=uid(ada), amount=2, idempotency_key="running")
    # Backdate one action, as if it had run yesterday and been settled today.
    session.exec(
        update(CreditEntry)
        .where(col(CreditEntry.idempotency_key) == "reserve:yesterday")
        .values(created_at=utcnow() - timedelta(days=1))
    )
    session.commit()
    usage = credits.usage_by_day(session, user_id=uid(ada), days=3)
    today = utcnow().date()
    assert [(u.day, u.spent) for u in usage] == [
        (today - timedelta(days=2), 0),
        (today - timedelta(days=1), 3),
        (today, 2),
    ]
    with pytest.raises(InvalidInputError):
        credits.usage_by_day(session, user_id=uid(ada), days=0)


# -- concurrency -------------------------------------------------------------------------------


def test_fifty_concurrent_reservations_never_overdraw_on_sqlite(
    session: Session, db_url: str, admin: User, ada: User
) -> None:
    give(session, admin, ada, 30)
    reserved, refused = race_reservations(db_url, user_id=uid(ada))
    assert (reserved, refused) == (30, 20)
    assert credits.balance(session, user_id=uid(ada)) == 0
    total = session.exec(
        select(func.sum(CreditEntry.amount)).where(CreditEntry.user_id == uid(ada))
    ).one()
    assert total == 0
    assert len([e for e in ledger(session, ada) if e.kind == "reserve"]) == 30


def test_concurrent_retries_of_one_key_reserve_once(
    session: Session, db_url: str, admin: User, ada: User
) -> None:
    give(session, admin, ada, 30)
    engine = engine_for(db_url)
    barrier = threading.Barrier(10)

    def attempt(_i: int) -> int:
        with Session(engine) as s:
            barrier.wait()
            return credits.reserve(s, user_id=uid(ada), amount=2, idempotency_key="retry").id

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(attempt, range(10)))
    assert len(ids) == 1
    assert credits.balance(session, user_id=uid(ada)) == 28

"""The credit ledger: every paid action reserves credits first, then commits its cost or refunds.

A paid action runs like this::

    held = reserve(session, user_id=uid, amount=price, idempotency_key=f"analysis:{aid}",
                   reference=f"analysis:{aid}")
    try:
        cost = run_the_model()
    except Exception:
        refund(session, key=held.key)
        raise
    commit(session, key=held.key, actual=cost)

Rules the code below keeps:

- The balance is the sum of a user's entries. Entries are only ever added, never edited or
  deleted, so the history is the audit trail.
- The balance never goes below zero, even under concurrent requests: every write takes a
  per-user lock (PostgreSQL) or the database write lock (SQLite) *before* it reads the balance,
  and commits before the lock is released. See `ledger_lock.ledger_transaction`.
- Every write carries an idempotency key, stored with a prefix per kind ("reserve:", "grant:",
  ...) so that a caller's keys for different kinds never collide. A repeated key returns the entry
  already written. Commit and refund share one key per reservation ("settle:<key>"), so the
  UNIQUE constraint itself allows a reservation to be settled once, one way or the other.
- Each write runs in its own short transaction on a dedicated session and is committed before
  the function returns: a reservation must be durable before the paid call starts, and the
  caller's later rollback must not undo a charge. The caller's session only supplies the engine
  (and answers the read-only queries), so it must not hold uncommitted writes on SQLite.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, literal
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.services.accounts.auth import require_role
from app.services.billing.ledger_lock import (
    DEADLOCK_RETRIES,
    engine_of,
    is_deadlock,
    ledger_transaction,
)
from app.services.core import metrics
from app.services.core.errors import (
    ConflictError,
    InsufficientCreditsError,
    InternalError,
    InvalidInputError,
    NotFoundError,
)
from app.services.core.models import CreditEntry, Role, User, utcnow
from app.services.notify import triggers
from app.settings import get_settings

# One entry moves at most this many credits: far above any real price or grant, far below
# the 32-bit integer column's limit, and it catches a cost passed in the wrong unit.
MAX_AMOUNT = 10_000_000
# The column holds 200 characters; the longest prefix ("reserve:") must still fit.
MAX_KEY_LENGTH = 190
MAX_HISTORY_PAGE = 200
MAX_USAGE_DAYS = 366
# Commit and refund of one reservation share this key prefix: see the module docstring.
_SETTLE = "settle:"


class EntryKind(enum.StrEnum):
    grant = "grant"  # an admin adds credits (positive)
    revoke = "revoke"  # an admin takes credits back (negative)
    reserve = "reserve"  # held before a paid action starts (negative)
    commit = "commit"  # the real cost is known: returns unused credits or charges the extra
    refund = "refund"  # the paid action failed: the whole reservation comes back (positive)
    purchase = "purchase"  # bought through Stripe (positive), written by the billing service
    plan = "plan"  # a plan's monthly credits (positive), written by the pricing service


class ReservationStatus(enum.StrEnum):
    held = "held"
    committed = "committed"
    refunded = "refunded"


@dataclass(frozen=True)
class Reservation:
    id: int  # the reserve entry's id
    key: str  # the caller's idempotency key, without our prefix
    user_id: int
    amount: int  # credits held (positive)
    reference: str
    status: ReservationStatus
    charged: int | None  # the final cost once settled (0 when refunded), None while held
    note: str  # the settling entry's reason, e.g. why an extra charge was capped
    created_at: datetime


@dataclass(frozen=True)
class HistoryPage:
    entries: list[CreditEntry]  # newest first
    next_before_id: int | None  # pass back as `before_id` for the next page; None at the end


@dataclass(frozen=True)
class DayUsage:
    day: date
    spent: int


# -- reads -------------------------------------------------------------------------------------


def balance(session: Session, *, user_id: int) -> int:
    """Credits available now: held reservations are already subtracted."""
    total = session.exec(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.user_id == user_id)
    ).one()
    return int(total)


def get_reservation(
    session: Session, *, key: str | None = None, reservation_id: int | None = None
) -> Reservation:
    """A reservation by the caller's key or by its entry id, with its current status."""
    return _reservation(
        session, _find_reserve_entry(session, key=key, reservation_id=reservation_id)
    )


def history(
    session: Session, *, user_id: int, limit: int = 50, before_id: int | None = None
) -> HistoryPage:
    """One page of a user's entries, newest first. Keyset on id: entries are append-only, so
    a page never shifts when new entries arrive while someone is reading older ones."""
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise InvalidInputError(f"Ask for between 1 and {MAX_HISTORY_PAGE} entries at a time.")
    query = select(CreditEntry).where(CreditEntry.user_id == user_id)
    if before_id is not None:
        query = query.where(col(CreditEntry.id) < before_id)
    rows = list(session.exec(query.order_by(col(CreditEntry.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(entries=rows, next_before_id=rows[-1].id if more and rows else None)


def usage_by_day(session: Session, *, user_id: int, days: int = 30) -> list[DayUsage]:
    """Credits spent on paid actions per UTC day, oldest first, one row per day (zeros too).

    A paid action counts on the day it was reserved, at its settled cost: a refund made just
    after midnight belongs to the day the action ran, so no day ever shows negative spending.
    A reservation still held counts in full, since those credits are out of the balance.
    """
    if not 1 <= days <= MAX_USAGE_DAYS:
        raise InvalidInputError(f"Ask for between 1 and {MAX_USAGE_DAYS} days.")
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    settle = aliased(CreditEntry)
    prefix = len(_stored_key(EntryKind.reserve, ""))
    rows = session.exec(
        select(CreditEntry.created_at, CreditEntry.amount, settle.amount)
        .outerjoin(
            settle,
            (
                col(settle.idempotency_key)
                == literal(_SETTLE) + func.substr(col(CreditEntry.idempotency_key), prefix + 1)
            )
            & (col(settle.user_id) == user_id),
        )
        .where(
            CreditEntry.user_id == user_id,
            CreditEntry.kind == EntryKind.reserve.value,
            col(CreditEntry.created_at) >= since,
        )
    ).all()
    spent = {first + timedelta(days=i): 0 for i in range(days)}
    for created_at, held, settled in rows:
        day = created_at.astimezone(UTC).date()
        if day in spent:
            spent[day] -= held + (settled or 0)
    return [DayUsage(day=day, spent=total) for day, total in spent.items()]


# -- admin writes ------------------------------------------------------------------------------


def grant(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    actor: User | None,
    idempotency_key: str,
) -> CreditEntry:
    """Add credits to an account (admins only). A repeated key returns the first grant."""
    admin = require_role(actor, Role.admin)
    amount = _check_amount(amount)
    reason = _check_reason(reason)
    stored = _stored_key(EntryKind.grant, _check_key(idempotency_key))

    def build(_tx: Session) -> CreditEntry:
        return CreditEntry(
            user_id=user_id,
            amount=amount,
            kind=EntryKind.grant.value,
            idempotency_key=stored,
            reason=reason,
            created_by=admin.id,
        )

    entry, _created = _write_once(
        session, user_id=user_id, stored_key=stored, build=build, references=admin.id
    )
    _check_same_request(entry, user_id=user_id, amount=amount)
    return entry


def revoke(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    actor: User | None,
    idempotency_key: str,
) -> CreditEntry:
    """Take credits back (admins only). Never below zero: held credits can't be revoked."""
    admin = require_role(actor, Role.admin)
    amount = _check_amount(amount)
    reason = _check_reason(reason)
    stored = _stored_key(EntryKind.revoke, _check_key(idempotency_key))

    def build(tx: Session) -> CreditEntry:
        available = balance(tx, user_id=user_id)
        if available < amount:
            raise InvalidInputError(
                f"Can't revoke {amount} credits: the balance is {available}. "
                f"Revoke {available} or fewer."
            )
        return CreditEntry(
            user_id=user_id,
            amount=-amount,
            kind=EntryKind.revoke.value,
            idempotency_key=stored,
            reason=reason,
            created_by=admin.id,
        )

    entry, _created = _write_once(
        session, user_id=user_id, stored_key=stored, build=build, references=admin.id
    )
    _check_same_request(entry, user_id=user_id, amount=-amount)
    return entry


# -- paid actions ------------------------------------------------------------------------------


def reserve(
    session: Session, *, user_id: int, amount: int, idempotency_key: str, reference: str = ""
) -> Reservation:
    """Hold `amount` credits before a paid action starts.

    Raises InsufficientCreditsError when the balance can't cover it. A repeated key returns the
    existing reservation (whatever its status) instead of holding the credits twice.
    """
    amount = _check_amount(amount)
    key = _check_key(idempotency_key)
    stored = _stored_key(EntryKind.reserve, key)
    if len(reference) > 200:
        raise InvalidInputError("The reference is too long (200 characters at most).")

    def build(tx: Session) -> CreditEntry:
        available = balance(tx, user_id=user_id)
        if available < amount:
            raise InsufficientCreditsError(balance=available, cost=amount)
        return CreditEntry(
            user_id=user_id,
            amount=-amount,
            kind=EntryKind.reserve.value,
            idempotency_key=stored,
            reference=reference,
        )

    entry, created = _write_once(session, user_id=user_id, stored_key=stored, build=build)
    _check_same_request(entry, user_id=user_id, amount=-amount)
    if created:
        metrics.CREDITS.labels(action="reserved").inc(amount)
        return _as_reservation(entry, settle=None)
    return get_reservation(session, key=key)


def commit(
    session: Session,
    *,
    key: str | None = None,
    reservation_id: int | None = None,
    actual: int,
) -> Reservation:
    """Record the real cost of a reserved action. Idempotent: a repeat returns the first result.

    Below the reserved amount the difference comes back. Above it, the extra is charged only
    if the balance covers it; otherwise the charge stays at the reserved amount (the action
    already ran, and the balance must not go negative) and the entry's reason says so.
    A reservation that was refunded can't be committed.
    """
    if isinstance(actual, bool) or not isinstance(actual, int) or not 0 <= actual <= MAX_AMOUNT:
        raise InvalidInputError(f"The actual cost must be a whole number from 0 to {MAX_AMOUNT}.")
    held = _find_reserve_entry(session, key=key, reservation_id=reservation_id)
    reserved = -held.amount

    def build(tx: Session) -> CreditEntry:
        extra = actual - reserved
        if extra <= 0:
            amount = -extra
            reason = f"Cost {actual} of the {reserved} reserved."
        else:
            available = balance(tx, user_id=held.user_id)
            if available >= extra:
                amount = -extra
                reason = f"Cost {actual}: {extra} more than the {reserved} reserved."
            else:
                amount = 0
                reason = (
                    f"Cost {actual}, but only {reserved} were reserved and the balance "
                    f"({available}) couldn't cover the extra {extra}: charged {reserved}."
                )
        return _settle_entry(held, kind=EntryKind.commit, amount=amount, reason=reason)

    entry, created = _write_once(
        session, user_id=held.user_id, stored_key=_settle_key(held), build=build
    )
    if entry.kind != EntryKind.commit.value:
        raise ConflictError("That paid action was already refunded, so it can't be charged.")
    if created:  # charged: what was reserved, less what the entry gave back
        metrics.CREDITS.labels(action="committed").inc(reserved - entry.amount)
    return _as_reservation(held, settle=entry)


def refund(
    session: Session, *, key: str | None = None, reservation_id: int | None = None
) -> Reservation:
    """Give back everything a failed action reserved. Idempotent; refused after a commit."""
    held = _find_reserve_entry(session, key=key, reservation_id=reservation_id)

    def build(_tx: Session) -> CreditEntry:
        return _settle_entry(
            held, kind=EntryKind.refund, amount=-held.amount, reason="The paid action failed."
        )

    entry, created = _write_once(
        session, user_id=held.user_id, stored_key=_settle_key(held), build=build
    )
    if entry.kind != EntryKind.refund.value:
        raise ConflictError("That paid action was already charged, so it can't be refunded.")
    if created:
        metrics.CREDITS.labels(action="refunded").inc(entry.amount)
    return _as_reservation(held, settle=entry)


def unsettled_reservations(
    session: Session, *, key_prefix: str, older_than: datetime, newer_than: datetime
) -> list[str]:
    """The caller keys (e.g. "analysis:12") of reservations made between the two times whose key
    starts with `key_prefix` and that were never committed or refunded."""
    stored_prefix = _stored_key(EntryKind.reserve, key_prefix)
    held = session.exec(
        select(CreditEntry.idempotency_key).where(
            col(CreditEntry.idempotency_key).startswith(stored_prefix, autoescape=True),
            CreditEntry.created_at < older_than,
            CreditEntry.created_at >= newer_than,
        )
    ).all()
    keys = [stored.removeprefix(_stored_key(EntryKind.reserve, "")) for stored in held]
    if not keys:
        return []
    settled = set(
        session.exec(
            select(CreditEntry.idempotency_key).where(
                col(CreditEntry.idempotency_key).in_([_SETTLE + key for key in keys])
            )
        ).all()
    )
    return [key for key in keys if _SETTLE + key not in settled]


# -- system writes: Stripe and plans (no admin actor) -------------------------------------------


def purchase(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    reference: str = "",
) -> CreditEntry:
    """Add credits someone paid for. Only the billing service calls this, after Stripe
    confirmed the payment; the key is derived from the Stripe object, so a repeat is a no-op."""
    return _system_credit(
        session,
        kind=EntryKind.purchase,
        user_id=user_id,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        reference=reference,
    )


def grant_plan(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
) -> CreditEntry:
    """Add a plan's monthly credits. The key names the plan and the month (see pricing.py)."""
    return _system_credit(
        session,
        kind=EntryKind.plan,
        user_id=user_id,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        reference="",
    )


def take_back(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    reference: str = "",
) -> CreditEntry:
    """Take back up to `amount` credits after a refund, as many as the balance allows.

    Never below zero: credits already spent (or held) stay spent, and the entry's amount
    (0 to -amount) says how many came back, so the caller can flag the shortfall. A repeated
    key returns the first entry, whatever it took.
    """
    amount = _check_amount(amount)
    reason = _check_reason(reason)
    stored = _stored_key(EntryKind.revoke, _check_key(idempotency_key))
    if len(reference) > 200:
        raise InvalidInputError("The reference is too long (200 characters at most).")

    def build(tx: Session) -> CreditEntry:
        taken = min(amount, max(balance(tx, user_id=user_id), 0))
        note = reason if taken == amount else f"{reason} Only {taken} of {amount} were left."
        return CreditEntry(
            user_id=user_id,
            amount=-taken,
            kind=EntryKind.revoke.value,
            idempotency_key=stored,
            reference=reference,
            reason=note[:500],
        )

    entry, _created = _write_once(session, user_id=user_id, stored_key=stored, build=build)
    if entry.user_id != user_id:
        raise ConflictError("That idempotency key was already used for a different request.")
    return entry


def _system_credit(
    session: Session,
    *,
    kind: EntryKind,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    reference: str,
) -> CreditEntry:
    amount = _check_amount(amount)
    reason = _check_reason(reason)
    stored = _stored_key(kind, _check_key(idempotency_key))
    if len(reference) > 200:
        raise InvalidInputError("The reference is too long (200 characters at most).")

    def build(_tx: Session) -> CreditEntry:
        return CreditEntry(
            user_id=user_id,
            amount=amount,
            kind=kind.value,
            idempotency_key=stored,
            reference=reference,
            reason=reason,
        )

    entry, _created = _write_once(session, user_id=user_id, stored_key=stored, build=build)
    _check_same_request(entry, user_id=user_id, amount=amount)
    return entry


# -- the write under the ledger lock ---------------------------------------------------------


def _write_once(
    session: Session,
    *,
    user_id: int,
    stored_key: str,
    build: Callable[[Session], CreditEntry],
    references: int | None = None,
) -> tuple[CreditEntry, bool]:
    """Add the entry `build` makes under the lock, unless `stored_key` is already in the
    ledger. Returns (entry, created)."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _write_once_locked(
                session, user_id=user_id, stored_key=stored_key, build=build, references=references
            )
        except OperationalError as e:
            # MySQL may still pick a deadlock victim (ledger_transaction locks the users an
            # entry references to avoid it); it rolled the whole transaction back and asks for
            # a retry, which reads the ledger afresh under the lock.
            if not is_deadlock(e) or attempt == DEADLOCK_RETRIES - 1:
                raise
    raise InternalError("unreachable")  # pragma: no cover


def _write_once_locked(
    session: Session,
    *,
    user_id: int,
    stored_key: str,
    build: Callable[[Session], CreditEntry],
    references: int | None,
) -> tuple[CreditEntry, bool]:
    try:
        with ledger_transaction(session, user_id=user_id, references=references) as tx:
            existing = _entry_by_key(tx, stored_key)
            if existing is not None:
                return existing, False
            entry = build(tx)
            tx.add(entry)
            tx.flush()
            _watch_low_balance(tx, user_id=user_id, entry=entry)
            return entry, True
    except IntegrityError as e:
        # The lock is per user, so the same key used for two users at once can race past the
        # check above; the UNIQUE constraint stops the second. Report the entry that won.
        with Session(engine_of(session), expire_on_commit=False) as fresh:
            existing = _entry_by_key(fresh, stored_key)
        if existing is None:
            raise InternalError(f"Ledger write failed for {stored_key!r}") from e
        return existing, False


def _watch_low_balance(tx: Session, *, user_id: int, entry: CreditEntry) -> None:
    """The low-credits email, once per crossing: when this entry takes the balance from the
    threshold or above to below it, email and remember it (`low_credits_notified`); when the
    balance is back at or above the threshold, forget it, so the next crossing emails again.
    Runs under the ledger lock, in the entry's transaction: two writers can't both cross."""
    threshold = get_settings().low_credits_threshold
    after = balance(tx, user_id=user_id)
    before = after - entry.amount
    user = tx.get(User, user_id)
    if user is None:
        return
    if after < threshold <= before and not user.low_credits_notified:
        user.low_credits_notified = True
        tx.add(user)
        triggers.low_credits(
            tx, user=user, balance=after, threshold=threshold, crossed_at=entry.created_at
        )
    elif after >= threshold and user.low_credits_notified:
        user.low_credits_notified = False
        tx.add(user)


# -- helpers -----------------------------------------------------------------------------------


def _stored_key(kind: EntryKind, key: str) -> str:
    return f"{kind.value}:{key}"


def _settle_key(held: CreditEntry) -> str:
    return _SETTLE + held.idempotency_key.removeprefix(_stored_key(EntryKind.reserve, ""))


def _entry_by_key(session: Session, stored_key: str) -> CreditEntry | None:
    return session.exec(
        select(CreditEntry).where(CreditEntry.idempotency_key == stored_key)
    ).first()


def _find_reserve_entry(
    session: Session, *, key: str | None, reservation_id: int | None
) -> CreditEntry:
    if (key is None) == (reservation_id is None):
        raise InvalidInputError("Give either the reservation's key or its id.")
    if key is not None:
        entry = _entry_by_key(session, _stored_key(EntryKind.reserve, _check_key(key)))
    else:
        entry = session.get(CreditEntry, reservation_id)
    if entry is None or entry.kind != EntryKind.reserve.value:
        raise NotFoundError("No credit reservation with that key.")
    return entry


def _settle_entry(held: CreditEntry, *, kind: EntryKind, amount: int, reason: str) -> CreditEntry:
    return CreditEntry(
        user_id=held.user_id,
        amount=amount,
        kind=kind.value,
        idempotency_key=_settle_key(held),
        reference=held.reference,
        reason=reason,
    )


def _reservation(session: Session, held: CreditEntry) -> Reservation:
    return _as_reservation(held, settle=_entry_by_key(session, _settle_key(held)))


def _as_reservation(held: CreditEntry, *, settle: CreditEntry | None) -> Reservation:
    assert held.id is not None
    reserved = -held.amount
    if settle is None:
        status, charged = ReservationStatus.held, None
    elif settle.kind == EntryKind.refund.value:
        status, charged = ReservationStatus.refunded, 0
    else:
        status, charged = ReservationStatus.committed, reserved - settle.amount
    return Reservation(
        id=held.id,
        key=held.idempotency_key.removeprefix(_stored_key(EntryKind.reserve, "")),
        user_id=held.user_id,
        amount=reserved,
        reference=held.reference,
        status=status,
        charged=charged,
        note=settle.reason if settle is not None else "",
        created_at=held.created_at,
    )


def _check_same_request(entry: CreditEntry, *, user_id: int, amount: int) -> None:
    # Replaying a key is only safe for the same request; anything else is a caller's bug that
    # would otherwise silently return someone else's entry.
    if entry.user_id != user_id or entry.amount != amount:
        raise ConflictError("That idempotency key was already used for a different request.")


def _check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        raise InvalidInputError(f"The amount must be a whole number from 1 to {MAX_AMOUNT}.")
    return amount


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError("Say why: a reason is required, and it shows in the history.")
    if len(reason) > 500:
        raise InvalidInputError("The reason is too long (500 characters at most).")
    return reason


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError("An idempotency key is required.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(f"The idempotency key is too long ({MAX_KEY_LENGTH} at most).")
    return key

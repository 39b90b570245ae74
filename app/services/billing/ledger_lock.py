"""The credit ledger's lock: one writer per user at a time, on SQLite, PostgreSQL and MySQL.

`credits` writes every entry inside `ledger_transaction`, so "read the balance, then write"
can't interleave with another request for the same user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.services.core.errors import InternalError, NotFoundError
from app.services.core.models import User

# A PostgreSQL writer waits this long for the per-user lock, like SQLite's busy_timeout, so a
# caller that holds the user's row locked in its own transaction gets an error, not a hang.
LOCK_TIMEOUT = "30s"
# How often a ledger write rolled back by MySQL's deadlock detector is tried again.
DEADLOCK_RETRIES = 5
_MYSQL_DEADLOCK = 1213  # ER_LOCK_DEADLOCK


def is_deadlock(error: DBAPIError) -> bool:
    """MySQL/MariaDB chose this transaction as a deadlock victim (and rolled it back)."""
    args: tuple[object, ...] = tuple(getattr(error.orig, "args", ()))
    return bool(args) and args[0] == _MYSQL_DEADLOCK


@contextmanager
def ledger_transaction(
    session: Session, *, user_id: int, references: int | None = None
) -> Iterator[Session]:
    """A dedicated session whose transaction is the only ledger writer for `user_id` until it
    commits, so "read the balance, then write" can't interleave with another request.

    PostgreSQL: `SELECT ... FOR NO KEY UPDATE` on the user's row. Writers for the same user
    queue on that row lock; others run in parallel. NO KEY UPDATE rather than UPDATE because
    inserting an entry takes KEY SHARE on the users it references (user_id, created_by): with
    FOR UPDATE, two admins granting to each other at once could deadlock, and every unrelated
    insert that references the user (a new prompt) would wait for the ledger.
    READ COMMITTED gives each later statement a fresh snapshot, so the balance read after the
    lock sees everything the previous holder committed.

    MySQL/MariaDB: `SELECT ... FOR UPDATE` (InnoDB has no NO KEY UPDATE), with the engine at
    READ COMMITTED (core/db.py) so the balance read after the lock sees the previous holder's
    entries, and innodb_lock_wait_timeout 30 s. An insert share-locks the users it references,
    so crossed admin grants would deadlock: the user the entry will reference (`references`,
    the granting admin) is locked too, both rows in id order, so they queue instead.

    SQLite: `BEGIN IMMEDIATE` takes the database write lock before the first read. A plain
    (deferred) BEGIN would let two writers read the same balance and then one of them fail to
    upgrade its lock with SQLITE_BUSY, which busy_timeout does not retry. pysqlite opens its
    own transactions only before DML, so an explicit BEGIN as the first statement is respected,
    and SQLAlchemy's commit/rollback end it. WAL keeps readers unblocked meanwhile.
    """
    engine = engine_of(session)
    _refuse_pending_sqlite_writes(session)
    with Session(engine, expire_on_commit=False) as tx:
        try:
            conn = tx.connection()
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                found = tx.exec(select(User.id).where(User.id == user_id)).first()
            else:
                if engine.dialect.name == "postgresql":
                    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                ids = {user_id}
                if engine.dialect.name == "mysql" and references is not None:
                    ids.add(references)
                locked = tx.exec(
                    select(User.id)
                    .where(col(User.id).in_(sorted(ids)))
                    .order_by(col(User.id))
                    .with_for_update(key_share=True)
                ).all()
                found = user_id if user_id in locked else None
            if found is None:
                raise NotFoundError("No account with that id.")
            yield tx
            tx.commit()
        except BaseException:
            tx.rollback()
            raise


def _refuse_pending_sqlite_writes(session: Session) -> None:
    # The ledger's own transaction would wait busy_timeout (30 s) for the write lock this
    # session holds, then fail: say what is wrong at once instead.
    if not session.in_transaction():
        return
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    if getattr(conn.connection.dbapi_connection, "in_transaction", False):
        raise InternalError(
            "Commit the session before a credit operation: the ledger writes in its own "
            "transaction and SQLite allows one writer at a time."
        )


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine

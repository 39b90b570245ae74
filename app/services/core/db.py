"""Database engine and sessions: SQLite by default, PostgreSQL or MariaDB/MySQL by DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import TypeCompiler
from sqlmodel import Session, create_engine

from app.services.core.tracing import instrument_engine

# A MySQL writer waits this long for a row lock (InnoDB's default is 50 s), like SQLite's
# busy_timeout and the ledger's PostgreSQL lock_timeout.
MYSQL_LOCK_WAIT_SECONDS = 30

# SQLAlchemy's pool: POOL_SIZE connections kept, more opened on demand up to the overflow.
POOL_SIZE = 5
# A queue worker thread can hold this many at once: its run's session (kept across the
# provider call), the credit ledger's own transaction, and its lease heartbeat's.
CONNECTIONS_PER_THREAD = 3
_max_overflow = 10  # SQLAlchemy's default; a process with more threads raises it


def size_pool_for(threads: int) -> None:
    """Let `threads` threads each hold CONNECTIONS_PER_THREAD connections at once, in engines
    made after this call (so call it first). With the default pool, 20 worker threads each
    holding a session over a provider call left none for the ledger: they waited 30 s, failed."""
    global _max_overflow
    _max_overflow = max(_max_overflow, threads * CONNECTIONS_PER_THREAD - POOL_SIZE)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.database not in (None, "", ":memory:"):  # an in-memory SQLite has no queue pool
        kwargs.update(pool_size=POOL_SIZE, max_overflow=_max_overflow)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        # READ COMMITTED, as PostgreSQL: every statement sees what others committed before it.
        # InnoDB's REPEATABLE READ would pin a transaction's plain reads to its first snapshot,
        # so a balance or a lease read after a lock wait could miss the previous holder's
        # commit (the locked row itself is read fresh, the rows around it are not). It also
        # takes fewer gap locks, so concurrent inserts deadlock less.
        kwargs["isolation_level"] = "READ COMMITTED"
        # Naive DATETIME values are UTC (models use UTCDateTime): keep NOW() on UTC too.
        kwargs["connect_args"] = {
            "init_command": "SET time_zone = '+00:00', "
            f"innodb_lock_wait_timeout = {MYSQL_LOCK_WAIT_SECONDS}"
        }
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    instrument_engine(engine)  # a span per statement once tracing is set up
    return engine


@compiles(DateTime, "mysql")
@compiles(DateTime, "mariadb")
def _mysql_datetime(_type: DateTime, _compiler: TypeCompiler, **_kw: Any) -> str:
    # MySQL's DATETIME drops fractions of a second: rows created in the same second would
    # tie on created_at, and "newest first" (gallery, ledger history, keyset cursors) would
    # lose their order. Microseconds, as SQLite and PostgreSQL keep. Every DateTime column
    # (the models' UTCDateTime included) compiles through here, in migrations too.
    return "DATETIME(6)"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the worker and the web app read while the other writes. In WAL mode NORMAL
    # syncs at checkpoints instead of at every commit (SQLite's advice for WAL): a crash of
    # the app loses nothing, a power cut may lose the last commits but never corrupts the
    # file. A generation commits about 15 times; a sync each cost 5-15 ms on this disk.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine() -> Engine:
    from app.settings import get_settings

    return engine_for(get_settings().resolved_database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

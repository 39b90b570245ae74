"""Analyses left behind: still "running" long after any call could last, or with credits still
held. The process serving the analysis died, or settling its credits failed (a database that
was unreachable for a moment): the maintenance task fails them and gives the credits back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.services.billing import credits as ledger
from app.services.core.db import session_scope
from app.services.core.errors import ConflictError
from app.services.core.logs import get_logger
from app.services.core.models import Analysis, utcnow

log = get_logger("analysis")

# Far beyond the longest call (provider timeouts are minutes): an analysis this old is over.
ABANDONED_AFTER = timedelta(minutes=30)
# Reservations are looked for this far back; older ones were settled by earlier runs.
LOOK_BACK = timedelta(days=7)
INTERRUPTED = "Interrupted: the server stopped during this analysis."
REFUNDED = INTERRUPTED + " Your credits were refunded."


def recover_abandoned_analyses(*, now: datetime | None = None) -> int:
    """Fail abandoned analyses and refund what they held; returns how many were recovered.
    Each refund is its own transaction (the ledger writes in its own, one writer at a time)."""
    now = now or utcnow()
    cutoff = now - ABANDONED_AFTER
    with session_scope() as session:
        keys = ledger.unsettled_reservations(
            session, key_prefix="analysis:", older_than=cutoff, newer_than=now - LOOK_BACK
        )
    recovered = 0
    for key in keys:
        with session_scope() as session:
            try:
                ledger.refund(session, key=key)
            except ConflictError:  # charged after all, between the query and the refund
                continue
        recovered += 1
        analysis_id = key.removeprefix("analysis:")
        if analysis_id.isdigit():
            with session_scope() as session:
                _fail(session, session.get(Analysis, int(analysis_id)), now, REFUNDED)
    with session_scope() as session:
        stuck = session.exec(
            select(Analysis).where(Analysis.status == "running", col(Analysis.created_at) < cutoff)
        ).all()
        for row in stuck:
            _fail(session, row, now, INTERRUPTED)
        recovered += len(stuck)
    if recovered:
        log.warning("recovered %d abandoned analyses", recovered)
    return recovered


def _fail(session: Session, row: Analysis | None, now: datetime, error: str) -> None:
    if row is None or row.status != "running":
        return
    row.status = "failed"
    row.error = error
    row.finished_at = now
    session.add(row)

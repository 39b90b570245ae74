"""Analyses left behind by a dead process (or a refund that failed) are failed and refunded by
maintenance. Found by make test-scale: when settling an analysis's credits failed, its
reservation stayed held for good."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.services.analyzer.recovery import recover_abandoned_analyses
from app.services.billing import credits
from app.services.core.models import Analysis, CreditEntry, utcnow
from tests.utils.prompt_factories import make_user


def _analysis(session: Session, user_id: int, *, minutes_ago: int, status: str = "running") -> int:
    row = Analysis(
        user_id=user_id,
        provider="openrouter",
        model="vendor/model",
        status=status,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    session.add(row)
    session.commit()
    assert row.id is not None
    return row.id


def _reserve(session: Session, user_id: int, analysis_id: int, *, minutes_ago: int) -> None:
    credits.reserve(session, user_id=user_id, amount=3, idempotency_key=f"analysis:{analysis_id}")
    held = session.exec(
        select(CreditEntry).where(CreditEntry.idempotency_key == f"reserve:analysis:{analysis_id}")
    ).one()
    held.created_at = utcnow() - timedelta(minutes=minutes_ago)
    session.add(held)
    session.commit()


def test_abandoned_analyses_are_failed_and_refunded_and_others_left_alone(
    session: Session,
) -> None:
    user = make_user(session, "ada")
    session.commit()
    assert user.id is not None
    credits.purchase(session, user_id=user.id, amount=20, reason="pack", idempotency_key="p1")
    session.commit()
    dead = _analysis(session, user.id, minutes_ago=45)  # its process died mid-call
    _reserve(session, user.id, dead, minutes_ago=45)
    refund_failed = _analysis(session, user.id, minutes_ago=40, status="failed")
    _reserve(session, user.id, refund_failed, minutes_ago=40)
    running = _analysis(session, user.id, minutes_ago=1)  # still streaming: not touched
    _reserve(session, user.id, running, minutes_ago=1)
    charged = _analysis(session, user.id, minutes_ago=50, status="succeeded")
    _reserve(session, user.id, charged, minutes_ago=50)
    credits.commit(session, key=f"analysis:{charged}", actual=2)
    session.commit()
    free = _analysis(session, user.id, minutes_ago=60)  # a free model: nothing reserved
    session.commit()
    assert credits.balance(session, user_id=user.id) == 20 - 3 - 3 - 3 - 2

    assert recover_abandoned_analyses() == 3
    session.expire_all()

    assert credits.balance(session, user_id=user.id) == 20 - 3 - 2  # two refunds of 3
    for analysis_id, status in (
        (dead, "failed"),
        (refund_failed, "failed"),
        (running, "running"),
        (charged, "succeeded"),
        (free, "failed"),
    ):
        row = session.get(Analysis, analysis_id)
        assert row is not None and row.status == status, (analysis_id, row)
    dead_row = session.get(Analysis, dead)
    assert dead_row is not None and dead_row.error is not None
    assert "refunded" in dead_row.error
    assert credits.get_reservation(session, key=f"analysis:{running}").status == "held"
    # A second run finds nothing more to do.
    assert recover_abandoned_analyses() == 0

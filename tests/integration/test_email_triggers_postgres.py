"""Low-credits emails on a real PostgreSQL: concurrent charges cross the threshold once."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.accounts import auth
from app.services.billing import credits
from app.settings import reset_settings
from tests.unit.test_credits import race_reservations
from tests.utils.outbox import emails

pytestmark = pytest.mark.integration


def test_racing_charges_send_one_low_credits_email(
    pg_url: str, pg_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOW_CREDITS_THRESHOLD", "10")
    reset_settings()
    ada = auth.create_user(pg_session, email="ada@example.com", password=None)
    pg_session.commit()
    assert ada.id is not None
    credits.purchase(pg_session, user_id=ada.id, amount=15, reason="pack", idempotency_key="pack")

    reserved, refused = race_reservations(pg_url, user_id=ada.id, attempts=20)

    assert (reserved, refused) == (15, 5)
    [told] = emails(pg_session, "low_credits")
    assert told.to_address == "ada@example.com" and told.context["balance"] == 9
    pg_session.refresh(ada)
    assert ada.low_credits_notified

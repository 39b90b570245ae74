"""The product-update list on a real PostgreSQL: one row per email even when sign-ups race."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session

from app.services.accounts import update_subscribers
from app.services.core.db import engine_for
from app.services.core.models import Role
from tests.utils.prompt_factories import make_user

pytestmark = pytest.mark.integration


def test_racing_signups_make_one_row_and_the_csv_lists_it(pg_url: str) -> None:
    engine = engine_for(pg_url)

    def sign_up(i: int) -> bool:
        with Session(engine) as s:
            email = "Race@Example.com" if i % 2 else "race@example.com "
            result = update_subscribers.subscribe(s, email=email, consent=True)
            s.commit()
            return result.created

    with ThreadPoolExecutor(6) as pool:
        created = list(pool.map(sign_up, range(12)))
    assert created.count(True) == 1
    with Session(engine) as s:
        admin = make_user(s, "boss", role=Role.admin)
        s.commit()
        rows = list(csv.reader(io.StringIO(update_subscribers.export_csv(s, actor=admin))))
    assert [r[:2] for r in rows[1:]] == [["race@example.com", "pending_confirmation"]]

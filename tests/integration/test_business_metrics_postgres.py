"""The /admin business metrics on a real PostgreSQL: the same hand-counted figures as SQLite."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.unit.test_business_metrics import check_expected

pytestmark = pytest.mark.integration


def test_the_figures_of_a_small_business_on_postgres(pg_session: Session) -> None:
    check_expected(pg_session)

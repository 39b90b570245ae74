"""The model catalogue on PostgreSQL: the same checks as on SQLite (tests/unit/test_catalogue.py).

The search escapes LIKE wildcards, counts booleans and compares ids case-insensitively, all
of which differ between the two databases if written carelessly.
"""

from __future__ import annotations

from sqlmodel import Session

from tests.unit import test_catalogue as on_sqlite


def test_refresh_keeps_admin_choices_and_unlists_what_disappeared(pg_session: Session) -> None:
    on_sqlite.test_refresh_keeps_admin_choices_and_unlists_what_disappeared(pg_session)


def test_the_picker_default_and_search(pg_session: Session) -> None:
    on_sqlite.test_the_picker_default_is_priced_image_models_that_write_text(pg_session)


def test_an_admin_can_offer_a_model_the_default_leaves_out(pg_session: Session) -> None:
    on_sqlite.test_an_admin_can_offer_a_model_the_default_leaves_out(pg_session)


def test_the_markup_rule_in_the_price_table(pg_session: Session) -> None:
    on_sqlite.test_admins_set_the_rule_in_the_price_table_and_quotes_follow_it(pg_session)

"""The landing page's update list: consent, validation, idempotence, admin-only CSV export."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

from app.services.accounts import update_subscribers
from app.services.core.db import engine_for
from app.services.core.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from app.services.core.models import Role, UpdateSubscriber
from tests.utils.prompt_factories import make_user


def test_signup_is_stored_pending_confirmation_with_what_was_agreed(session: Session) -> None:
    result = update_subscribers.subscribe(session, email="  Ada@Example.COM ", consent=True)
    session.commit()
    assert result == update_subscribers.SignupResult(
        "ada@example.com", "pending_confirmation", True
    )
    row = session.exec(select(UpdateSubscriber)).one()
    assert (row.email, row.status, row.source) == (
        "ada@example.com",
        "pending_confirmation",
        "landing",
    )
    assert row.consent_text == update_subscribers.CONSENT_TEXT
    assert row.confirmed_at is None


def test_no_consent_or_a_bad_email_is_refused_and_nothing_is_stored(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="Tick the box"):
        update_subscribers.subscribe(session, email="ada@example.com", consent=False)
    for bad in (
        "",
        "   ",
        "not-an-email",
        "ada@",
        "@example.com",
        "a b@example.com",
        "x" * 320 + "@e.io",
    ):
        with pytest.raises(InvalidInputError, match="valid email"):
            update_subscribers.subscribe(session, email=bad, consent=True)
    session.commit()
    assert update_subscribers.count(session) == 0


def test_the_same_email_twice_is_one_row(session: Session) -> None:
    first = update_subscribers.subscribe(session, email="ada@example.com", consent=True)
    session.commit()
    again = update_subscribers.subscribe(session, email="ADA@example.com ", consent=True)
    session.commit()
    assert first.created and not again.created
    assert update_subscribers.count(session) == 1


def test_concurrent_signups_with_one_email_make_one_row(db_url: str) -> None:
    engine = engine_for(db_url)

    def sign_up(_: int) -> bool:
        with Session(engine) as s:
            result = update_subscribers.subscribe(s, email="race@example.com", consent=True)
            s.commit()
            return result.created

    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(sign_up, range(8)))
    assert created.count(True) == 1
    with Session(engine) as s:
        assert update_subscribers.count(s) == 1


def test_admins_export_csv_and_nobody_else_can(session: Session) -> None:
    admin = make_user(session, "boss", role=Role.admin)
    user = make_user(session, "robin")
    for email in ("first@example.com", "second@example.com"):
        update_subscribers.subscribe(session, email=email, consent=True)
    session.commit()
    rows = list(csv.reader(io.StringIO(update_subscribers.export_csv(session, actor=admin))))
    assert rows[0] == list(update_subscribers.CSV_COLUMNS)
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("first@example.com", "pending_confirmation"),
        ("second@example.com", "pending_confirmation"),
    ]
    with pytest.raises(PermissionDeniedError):
        update_subscribers.export_csv(session, actor=user)
    with pytest.raises(AuthenticationError):
        update_subscribers.export_csv(session, actor=None)


def test_csv_cells_cannot_run_as_spreadsheet_formulas(session: Session) -> None:
    admin = make_user(session, "boss", role=Role.admin)
    session.add(UpdateSubscriber(email="=cmd@example.com", consent_text="x", source="+api"))
    session.commit()
    rows = list(csv.reader(io.StringIO(update_subscribers.export_csv(session, actor=admin))))
    assert rows[1][0] == "'=cmd@example.com" and rows[1][4] == "'+api"


def test_the_csv_download_endpoint_is_for_admins_only(db_url: str, session: Session) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_api
    from app.services.accounts import auth

    client = TestClient(create_api(), raise_server_exceptions=False)
    admin = make_user(session, "boss", role=Role.admin)
    user = make_user(session, "robin")
    update_subscribers.subscribe(session, email="reader@example.com", consent=True)
    headers = {}
    for who in (admin, user):
        headers[who.email] = {"Authorization": f"Bearer {auth.open_session(session, user=who)}"}
    session.commit()
    path = "/api/admin/update-subscribers.csv"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=headers[user.email]).status_code == 403
    response = client.get(path, headers=headers[admin.email])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.splitlines()[1].startswith("reader@example.com,pending_confirmation,")

"""The signed-in user dependency hands the request's database connection back at once.

Under load (make test-scale), requests that kept the sign-in lookup's connection through a slow
upload or while a handler took a second one (the credit ledger's) used up the pool, and others
waited 30 s for a connection and failed with 500."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request

from app.api.deps import optional_user
from app.services.accounts import auth

PASSWORD = "correct horse battery staple"


def _request(token: str) -> Request:
    headers = [(b"authorization", f"Bearer {token}".encode())]
    return Request({"type": "http", "method": "GET", "path": "/api/me", "headers": headers})


def test_the_lookup_ends_its_transaction(session: Session) -> None:
    user = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    token = auth.authenticate(session, email="ada@example.com", password=PASSWORD).token
    session.commit()
    found = optional_user(_request(token), session=session)
    assert found is not None and found.id == user.id
    assert not session.in_transaction()  # its connection is back in the pool
    assert found.email == "ada@example.com"  # still readable: sessions don't expire on commit


def test_no_token_and_a_wrong_one_also_let_go(session: Session) -> None:
    for token in ("", "not-a-session", "jc_not_a_key"):
        assert optional_user(_request(token), session=session) is None
        assert not session.in_transaction()

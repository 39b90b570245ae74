"""Admin account management: only admins, never locking yourself out, bad input refused."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.accounts import auth, users
from app.services.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

PASSWORD = "a long passphrase for tests"


@pytest.fixture
def people(session: Session) -> tuple[object, object]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=PASSWORD)
    plain = auth.create_user(session, email="ada_lovelace@example.com", password=PASSWORD)
    session.commit()
    return admin, plain


def test_only_admins_list_and_change_users(session: Session, people: tuple) -> None:
    admin, plain = people
    with pytest.raises(PermissionDeniedError):
        users.list_users(session, actor=plain)
    with pytest.raises(AuthenticationError):
        users.list_users(session, actor=None)
    with pytest.raises(PermissionDeniedError):
        users.change_role(session, actor=plain, user_id=plain.id, role="admin")
    assert {r.email for r in users.list_users(session, actor=admin)} == {
        "boss@example.com",
        "ada_lovelace@example.com",
    }
    assert users.change_role(session, actor=admin, user_id=plain.id, role="editor").role == "editor"


def test_search_treats_wildcards_literally(session: Session, people: tuple) -> None:
    admin, _ = people
    assert [r.email for r in users.list_users(session, actor=admin, query="ADA_")] == [
        "ada_lovelace@example.com"
    ]
    assert users.list_users(session, actor=admin, query="%") == []


def test_bad_changes_are_refused(session: Session, people: tuple) -> None:
    admin, plain = people
    with pytest.raises(InvalidInputError, match="Unknown role"):
        users.change_role(session, actor=admin, user_id=plain.id, role="superuser")
    with pytest.raises(NotFoundError):
        users.change_role(session, actor=admin, user_id=9999, role="user")
    with pytest.raises(ConflictError, match="own admin role"):
        users.change_role(session, actor=admin, user_id=admin.id, role="user")
    with pytest.raises(InvalidInputError, match="disable your own"):
        users.set_active(session, actor=admin, user_id=admin.id, active=False)


def test_disabling_signs_the_account_out(session: Session, people: tuple) -> None:
    admin, plain = people
    token = auth.open_session(session, user=plain)
    session.commit()
    users.set_active(session, actor=admin, user_id=plain.id, active=False)
    session.commit()
    assert auth.user_for_token(session, token) is None

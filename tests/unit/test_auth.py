"""Accounts on a migrated SQLite file: sign-up, sign-in, throttling, sessions, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    TooManyAttemptsError,
    WeakPasswordError,
)
from app.services.core.models import Role, User, UserSession

GOOD = "correct horse battery staple"


def test_sign_up_hashes_the_password(session: Session) -> None:
    user = auth.create_user(session, email="  Ada@Example.COM ", password=GOOD, display_name="Ada")
    session.commit()
    assert user.email == "ada@example.com"
    assert user.password_hash and GOOD not in user.password_hash
    assert user.password_hash.startswith("$argon2")
    assert user.role == Role.user.value


def test_duplicate_email_is_refused_case_insensitively(session: Session) -> None:
    auth.create_user(session, email="ada@example.com", password=GOOD)
    session.commit()
    with pytest.raises(ConflictError, match="already exists"):
        auth.create_user(session, email="ADA@example.com", password=GOOD)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "at least 10"),
        ("password123", "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("x" * 1025, "too long"),
        ("ada@example.com", "can't be your email"),
    ],
)
def test_weak_passwords_get_a_specific_message(
    session: Session, password: str, fragment: str
) -> None:
    with pytest.raises(WeakPasswordError, match=fragment):
        auth.create_user(session, email="ada@example.com", password=password)


@pytest.mark.parametrize(
    "email", ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com"]
)
def test_invalid_emails_are_refused(session: Session, email: str) -> None:
    with pytest.raises(InvalidInputError, match="valid email"):
        auth.create_user(session, email=email, password=GOOD)


def test_sign_in_opens_a_session_with_a_new_random_token(session: Session) -> None:
    auth.create_user(session, email="ada@example.com", password=GOOD)
    session.commit()
    first = auth.authenticate(session, email="ada@example.com", password=GOOD)
    second = auth.authenticate(session, email="ADA@example.com", password=GOOD)
    session.commit()
    assert first.token != second.token
    assert auth.user_for_token(session, first.token) is not None
    stored = session.exec(select(UserSession)).all()
    assert len(stored) == 2
    assert all(first.token not in s.token_hash for s in stored)  # only hashes are kept


def test_wrong_password_and_unknown_email_get_the_same_message(session: Session) -> None:
    auth.create_user(session, email="ada@example.com", password=GOOD)
    session.commit()
    with pytest.raises(AuthenticationError) as wrong:
        auth.authenticate(session, email="ada@example.com", password="not the password")
    with pytest.raises(AuthenticationError) as unknown:
        auth.authenticate(session, email="nobody@example.com", password="not the password")
    assert wrong.value.message == unknown.value.message == auth.WRONG_CREDENTIALS


def test_repeated_failures_are_slowed_down(session: Session) -> None:
    auth.create_user(session, email="ada@example.com", password=GOOD)
    session.commit()
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(
                session, email="ada@example.com", password="wrong password!", client="1.2.3.4"
            )
    with pytest.raises(TooManyAttemptsError) as blocked:
        auth.authenticate(session, email="ada@example.com", password=GOOD, client="1.2.3.4")
    assert 0 < blocked.value.retry_after <= 900
    assert "Try again in" in blocked.value.message


def test_expired_sessions_are_rejected_and_purged(session: Session) -> None:
    user = auth.create_user(session, email="ada@example.com", password=GOOD)
    token = auth.open_session(session, user=user)
    row = session.exec(select(UserSession)).one()
    row.expires_at = row.expires_at - timedelta(days=365)
    session.add(row)
    session.commit()
    assert auth.user_for_token(session, token) is None
    assert auth.purge_expired_sessions(session) == 1


@pytest.mark.parametrize("token", [None, "", "garbage", "x" * 500])
def test_unknown_tokens_resolve_to_nobody(session: Session, token: str | None) -> None:
    assert auth.user_for_token(session, token) is None


def test_sign_out_and_sign_out_everywhere(session: Session) -> None:
    user = auth.create_user(session, email="ada@example.com", password=GOOD)
    tokens = [auth.open_session(session, user=user) for _ in range(3)]
    session.commit()
    auth.close_session(session, token=tokens[0])
    assert auth.user_for_token(session, tokens[0]) is None
    assert auth.user_for_token(session, tokens[1]) is not None
    assert user.id is not None
    assert auth.close_all_sessions(session, user_id=user.id) == 2
    assert auth.user_for_token(session, tokens[2]) is None


def test_disabled_accounts_cannot_sign_in(session: Session) -> None:
    user = auth.create_user(session, email="ada@example.com", password=GOOD)
    token = auth.open_session(session, user=user)
    user.is_active = False
    session.add(user)
    session.commit()
    assert auth.user_for_token(session, token) is None
    with pytest.raises(AuthenticationError):
        auth.authenticate(session, email="ada@example.com", password=GOOD)


def test_roles_are_enforced(session: Session) -> None:
    plain = auth.create_user(session, email="user@example.com", password=GOOD)
    admin, created = auth.ensure_admin(session, email="boss@example.com", password=GOOD)
    assert created and admin.role == "admin"
    assert auth.require_role(admin, Role.editor) is admin
    with pytest.raises(PermissionDeniedError):
        auth.require_role(plain, Role.editor)
    with pytest.raises(AuthenticationError):
        auth.require_role(None, Role.user)


def test_ensure_admin_promotes_an_existing_account(session: Session) -> None:
    auth.create_user(session, email="ada@example.com", password=GOOD)
    user, created = auth.ensure_admin(session, email="ada@example.com", password=None)
    assert not created
    assert session.exec(select(User).where(User.email == "ada@example.com")).one().role == "admin"
    assert user.role == "admin"

"""Accounts: sign-up, sign-in with throttling, server-side sessions, roles."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.services import analytics
from app.services.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    TooManyAttemptsError,
    WeakPasswordError,
)
from app.services.core.models import ROLE_RANK, LoginFailure, Role, User, UserSession, utcnow
from app.settings import Settings, get_settings

_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps both paths equally slow,
# so timing does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
WRONG_CREDENTIALS = "That email and password don't match an account."
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "qwertyuiop",
        "letmein123",
        "iloveyou12",
        "administrator",
        "welcome123",
        "changeme123",
    }
)


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if len(value) > 320 or not _EMAIL_RE.match(value):
        raise InvalidInputError("Enter a valid email address, like name@example.com.")
    return value


def check_password_strength(
    password: str, *, email: str = "", settings: Settings | None = None
) -> None:
    settings = settings or get_settings()
    if len(password) < settings.min_password_length:
        raise WeakPasswordError(
            f"Use at least {settings.min_password_length} characters for your password."
        )
    if len(password) > 1024:
        raise WeakPasswordError("That password is too long (1024 characters at most).")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        raise WeakPasswordError("That password is too easy to guess. Try a longer phrase.")
    if email and lowered == email.lower():
        raise WeakPasswordError("Your password can't be your email address.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    role: Role = Role.user,
) -> User:
    email = normalize_email(email)
    if password is not None:
        check_password_strength(password, email=email)
    if session.exec(select(User).where(User.email == email)).first():
        raise ConflictError("An account with that email already exists. Sign in instead.")
    user = User(
        email=email,
        display_name=display_name.strip()[:120] or email.split("@")[0],
        password_hash=hash_password(password) if password is not None else None,
        role=role.value,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent sign-up with the same email
        session.rollback()
        raise ConflictError("An account with that email already exists. Sign in instead.") from e
    analytics.capture_after_commit(session, user.id, "signed_up", {"role": user.role})
    return user


def _throttle_keys(email: str, client: str) -> list[str]:
    keys = [f"email:{email}"]
    if client:
        keys.append(f"ip:{client}")
    return keys


def _check_throttle(session: Session, keys: list[str], settings: Settings) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    for key in keys:
        limit = settings.login_max_failures * (4 if key.startswith("ip:") else 1)
        row = session.exec(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.key == key, LoginFailure.failed_at >= since
            )
        ).one()
        count, oldest = row
        if count >= limit and oldest is not None:
            retry = int(
                (
                    oldest + timedelta(seconds=settings.login_window_seconds) - utcnow()
                ).total_seconds()
            )
            raise TooManyAttemptsError(
                f"Too many failed sign-ins. Try again in {max(retry, 1) // 60 + 1} minutes.",
                retry_after=max(retry, 1),
            )


def authenticate(
    session: Session, *, email: str, password: str, client: str = "", user_agent: str = ""
) -> SignedIn:
    """Check credentials and open a new session. One message for every wrong case."""
    settings = get_settings()
    try:
        email = normalize_email(email)
    except InvalidInputError as e:
        raise AuthenticationError(WRONG_CREDENTIALS) from e
    keys = _throttle_keys(email, client)
    _check_throttle(session, keys, settings)
    user = session.exec(select(User).where(User.email == email)).first()
    ok = False
    try:
        ok = _hasher.verify(
            user.password_hash if user and user.password_hash else _DUMMY_HASH, password
        )
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.password_hash or not user.is_active:
        for key in keys:
            session.add(LoginFailure(key=key))
        session.commit()
        raise AuthenticationError(WRONG_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.exec(delete(LoginFailure).where(col(LoginFailure.key) == f"email:{email}"))
    return SignedIn(user=user, token=open_session(session, user=user, user_agent=user_agent))


def open_session(session: Session, *, user: User, user_agent: str = "") -> str:
    """A new random token per sign-in; only its hash is stored."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().session_ttl_hours),
            user_agent=user_agent[:400],
        )
    )
    user.last_login_at = now
    session.add(user)
    session.flush()
    return token


def user_for_token(session: Session, token: str | None) -> User | None:
    """The signed-in user for a session token, or None when missing, unknown or expired."""
    if not token or len(token) > 200:
        return None
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == _token_hash(token))
    ).first()
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    # Sliding expiry: an active session is refreshed, at most once an hour.
    if now - row.last_seen_at > timedelta(hours=1):
        row.last_seen_at = now
        row.expires_at = now + timedelta(hours=get_settings().session_ttl_hours)
        session.add(row)
        session.commit()
    return user


def close_session(session: Session, *, token: str | None) -> None:
    if token:
        session.exec(delete(UserSession).where(col(UserSession.token_hash) == _token_hash(token)))


def close_all_sessions(session: Session, *, user_id: int) -> int:
    result = session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))
    return int(result.rowcount or 0)


def purge_expired_sessions(session: Session) -> int:
    now = utcnow()
    result = session.exec(delete(UserSession).where(col(UserSession.expires_at) <= now))
    old = now - timedelta(days=1)
    session.exec(delete(LoginFailure).where(col(LoginFailure.failed_at) < old))
    return int(result.rowcount or 0)


def has_role(user: User | None, role: Role) -> bool:
    return user is not None and ROLE_RANK.get(Role(user.role), -1) >= ROLE_RANK[role]


def require_role(user: User | None, role: Role) -> User:
    """Enforced in every state and REST handler that needs a role, not only hidden in the UI."""
    if user is None:
        raise AuthenticationError("Sign in to continue.")
    if not has_role(user, role):
        raise PermissionDeniedError("You don't have access to that.")
    return user


def ensure_admin(session: Session, *, email: str, password: str | None) -> tuple[User, bool]:
    """Create an admin, or promote an existing account. Returns (user, created)."""
    email = normalize_email(email)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None:
        user.role = Role.admin.value
        if password:
            check_password_strength(password, email=email)
            user.password_hash = hash_password(password)
        session.add(user)
        session.flush()
        return user, False
    return create_user(session, email=email, password=password, role=Role.admin), True

"""Project API keys: shown once, stored as SHA-256 hashes, looked up by hash.

A key acts for its project with its scopes (`upload`, `read`, `manage`; see
`authenticate_project_key`), and for its owner on the rest of the REST API (`user_for_key`).
A key is live until revoked, or until `expires_at` (the grace period of a regenerated key).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlmodel import Session, select

from app.services.core.errors import AuthenticationError, PermissionDeniedError
from app.services.core.models import ApiKey, Project, User, utcnow

PREFIX = "jc_"
SCOPES = ("upload", "read", "manage")
_USE_GRAIN = timedelta(minutes=1)  # how precisely "last used" is kept


@dataclass(frozen=True)
class NewKey:
    key: str  # the only time the secret exists in clear
    key_id: int
    project_id: int


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, *, owner: User, project_name: str = "Default", name: str = ""
) -> NewKey:
    assert owner.id is not None
    project = session.exec(
        select(Project).where(Project.owner_id == owner.id, Project.name == project_name)
    ).first()
    if project is None:
        project = Project(owner_id=owner.id, name=project_name[:120])
        session.add(project)
        session.flush()
    assert project.id is not None
    return issue_key(session, project_id=project.id, name=name)


def issue_key(
    session: Session, *, project_id: int, name: str, scopes: tuple[str, ...] = SCOPES
) -> NewKey:
    """A new key for a project: its clear text is returned once, only its hash is stored."""
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        project_id=project_id,
        name=name[:120],
        prefix=key[:10],
        key_hash=_hash(key),
        scopes=",".join(s for s in SCOPES if s in scopes),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return NewKey(key=key, key_id=row.id, project_id=project_id)


@dataclass(frozen=True)
class KeyAuth:
    """What a live project key may do: act on `project_id` within `scopes`."""

    project_id: int
    key_id: int
    scopes: frozenset[str]


def _record_use(session: Session, row: ApiKey) -> bool:
    """Note the key's use, at most once a minute: a busy key would otherwise turn every read
    into a write, and writers queue for each other (SQLite has one at a time)."""
    now = utcnow()
    last = row.last_used_at
    if last is not None and now - (last if last.tzinfo else last.replace(tzinfo=UTC)) < _USE_GRAIN:
        return False
    row.last_used_at = now
    session.add(row)
    session.flush()
    return True


def parse_scopes(text: str) -> frozenset[str]:
    return frozenset(s for s in (part.strip() for part in text.split(",")) if s in SCOPES)


def _live_row(session: Session, key: str | None) -> ApiKey | None:
    if not key or not key.startswith(PREFIX) or len(key) > 200:
        return None
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == _hash(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return row


def authenticate_project_key(session: Session, key: str | None, *, scope: str) -> KeyAuth:
    """The project a secret key acts for, if the key is live and has `scope`.

    AuthenticationError (401) for a missing, unknown, revoked or expired key; PermissionDenied
    (403) for a live key without the scope. Records the key's last use."""
    row = _live_row(session, key)
    project = session.get(Project, row.project_id) if row is not None else None
    owner = session.get(User, project.owner_id) if project is not None else None
    if row is None or row.id is None or owner is None or not owner.is_active:
        raise AuthenticationError(
            "Send a live project secret key as 'Authorization: Bearer jc_...'."
        )
    scopes = parse_scopes(row.scopes)
    if scope not in scopes:
        raise PermissionDeniedError(f"This key lacks the '{scope}' scope.")
    _record_use(session, row)
    return KeyAuth(project_id=row.project_id, key_id=row.id, scopes=scopes)


def user_for_key(session: Session, key: str | None) -> User | None:
    """The owner of a live key, or None (unknown, revoked, expired, malformed)."""
    row = _live_row(session, key)
    if row is None:
        return None
    project = session.get(Project, row.project_id)
    user = session.get(User, project.owner_id) if project else None
    if user is None or not user.is_active:
        return None
    if _record_use(session, row):
        session.commit()
    return user


def revoke_key(session: Session, *, owner: User, key_id: int) -> bool:
    row = session.get(ApiKey, key_id)
    project = session.get(Project, row.project_id) if row else None
    if row is None or project is None or project.owner_id != owner.id:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    return True

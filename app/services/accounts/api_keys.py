"""Project API keys: shown once, stored as SHA-256 hashes, looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from app.services.core.models import ApiKey, Project, User, utcnow

PREFIX = "jc_"


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
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(project_id=project.id, name=name[:120], prefix=key[:10], key_hash=_hash(key))
    session.add(row)
    session.flush()
    assert row.id is not None
    return NewKey(key=key, key_id=row.id, project_id=project.id)


def user_for_key(session: Session, key: str | None) -> User | None:
    """The owner of a live key, or None (unknown, revoked, malformed)."""
    if not key or not key.startswith(PREFIX) or len(key) > 200:
        return None
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == _hash(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    project = session.get(Project, row.project_id)
    user = session.get(User, project.owner_id) if project else None
    if user is None or not user.is_active:
        return None
    row.last_used_at = utcnow()
    session.add(row)
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

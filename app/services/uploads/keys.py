"""A project's secret keys as its owner manages them: list, create, regenerate, revoke.

Keys are made and hashed by accounts/api_keys.py; the clear key exists only in the NewKey a
create or regenerate returns. A regenerated key's old one stops at once, or at the end of a
grace period (ApiKey.expires_at) so running servers can move to the new key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.services.accounts.api_keys import SCOPES, NewKey, issue_key, parse_scopes
from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import ApiKey, User, utcnow
from app.services.uploads.ownership import get_owned_project

MAX_KEY_NAME = 120
# The grace periods a person can pick for the old key of a regenerated one.
GRACE_PERIODS: dict[str, timedelta | None] = {
    "none": None,
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


@dataclass(frozen=True)
class KeyView:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None  # the end of a grace period
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


def _view(row: ApiKey) -> KeyView:
    assert row.id is not None
    scopes = parse_scopes(row.scopes)
    return KeyView(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(s for s in SCOPES if s in scopes),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def list_keys(session: Session, *, owner: User, project_id: int) -> list[KeyView]:
    """The project's keys, newest first, revoked ones included (the log of what existed)."""
    get_owned_project(session, owner=owner, project_id=project_id)
    rows = session.exec(
        select(ApiKey)
        .where(ApiKey.project_id == project_id)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    ).all()
    return [_view(r) for r in rows]


def clean_key_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInputError("Give the key a name, like “production server”.")
    if len(cleaned) > MAX_KEY_NAME:
        raise InvalidInputError(f"A key name can be at most {MAX_KEY_NAME} characters.")
    return cleaned


def clean_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInputError(f"Unknown scope “{unknown[0][:40]}”: use upload, read or manage.")
    if not scopes:
        raise InvalidInputError("Pick at least one scope: upload, read or manage.")
    return tuple(s for s in SCOPES if s in scopes)


def create_project_key(
    session: Session, *, owner: User, project_id: int, name: str, scopes: list[str]
) -> NewKey:
    get_owned_project(session, owner=owner, project_id=project_id)
    return issue_key(
        session, project_id=project_id, name=clean_key_name(name), scopes=clean_scopes(scopes)
    )


def _owned_key(session: Session, *, owner: User, project_id: int, key_id: int) -> ApiKey:
    get_owned_project(session, owner=owner, project_id=project_id)
    row = session.get(ApiKey, key_id)
    if row is None or row.project_id != project_id:
        raise NotFoundError("No such key.")
    return row


def regenerate_key(
    session: Session, *, owner: User, project_id: int, key_id: int, grace: str
) -> NewKey:
    """A new key with the old one's name and scopes; the old one stops now or after `grace`."""
    if grace not in GRACE_PERIODS:
        raise InvalidInputError("Pick how long the old key keeps working: none, 1h, 24h or 7d.")
    row = _owned_key(session, owner=owner, project_id=project_id, key_id=key_id)
    if not _view(row).live:
        raise InvalidInputError("That key no longer works: create a new one instead.")
    new = issue_key(
        session,
        project_id=project_id,
        name=row.name,
        scopes=tuple(parse_scopes(row.scopes)),
    )
    period = GRACE_PERIODS[grace]
    now = utcnow()
    if period is None:
        row.revoked_at = now
    else:
        # Never lengthen an earlier, shorter grace period.
        end = now + period
        row.expires_at = end if row.expires_at is None else min(row.expires_at, end)
    session.add(row)
    session.flush()
    return new


def revoke_project_key(session: Session, *, owner: User, project_id: int, key_id: int) -> KeyView:
    row = _owned_key(session, owner=owner, project_id=project_id, key_id=key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return _view(row)

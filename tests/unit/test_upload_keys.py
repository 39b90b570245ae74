"""A project's secret keys as its owner manages them: shown once, hashed, scoped, regenerated
with or without a grace period for the old one, and revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.services.accounts.api_keys import authenticate_project_key
from app.services.core.db import engine_for
from app.services.core.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from app.services.core.models import ApiKey, utcnow
from app.services.uploads.keys import (
    create_project_key,
    list_keys,
    regenerate_key,
    revoke_project_key,
)
from app.services.uploads.projects import create_project
from tests.utils.job_helpers import make_user


@pytest.fixture
def project_id(session: Session) -> int:
    owner = make_user(session, "dev@example.com")
    project = create_project(session, owner=owner, name="Site")
    assert project.id is not None
    return project.id


def owner_of(session: Session):  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from app.services.core.models import User

    return session.exec(select(User).where(User.email == "dev@example.com")).one()


def test_a_new_key_is_shown_once_stored_hashed_and_scoped(
    session: Session, project_id: int
) -> None:
    owner = owner_of(session)
    new = create_project_key(
        session, owner=owner, project_id=project_id, name="  reader ", scopes=["read"]
    )
    row = session.get(ApiKey, new.key_id)
    assert row is not None and new.key.startswith("jc_")
    assert new.key not in (row.key_hash, row.prefix) and row.prefix == new.key[:10]
    assert (row.name, row.scopes) == ("reader", "read")
    with pytest.raises(PermissionDeniedError):
        authenticate_project_key(session, new.key, scope="upload")
    assert authenticate_project_key(session, new.key, scope="read").project_id == project_id
    [view] = list_keys(session, owner=owner, project_id=project_id)
    assert (view.name, view.scopes, view.live) == ("reader", ("read",), True)
    assert view.last_used_at is not None


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", ["read"], "Give the key a name"),
        ("x" * 121, ["read"], "at most 120"),
        ("k", [], "at least one scope"),
        ("k", ["admin"], "Unknown scope"),
    ],
)
def test_bad_key_requests_are_refused(
    session: Session, project_id: int, name: str, scopes: list[str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        create_project_key(
            session, owner=owner_of(session), project_id=project_id, name=name, scopes=scopes
        )
    assert list_keys(session, owner=owner_of(session), project_id=project_id) == []


def test_another_person_cannot_see_make_or_revoke_keys(session: Session, project_id: int) -> None:
    stranger = make_user(session, "stranger@example.com")
    new = create_project_key(
        session, owner=owner_of(session), project_id=project_id, name="k", scopes=["upload"]
    )
    with pytest.raises(NotFoundError):
        list_keys(session, owner=stranger, project_id=project_id)
    with pytest.raises(NotFoundError):
        create_project_key(
            session, owner=stranger, project_id=project_id, name="k", scopes=["read"]
        )
    with pytest.raises(NotFoundError):
        revoke_project_key(session, owner=stranger, project_id=project_id, key_id=new.key_id)
    theirs = create_project(session, owner=stranger, name="Theirs")
    assert theirs.id is not None
    with pytest.raises(NotFoundError):  # the key id of another project, under one's own
        revoke_project_key(session, owner=stranger, project_id=theirs.id, key_id=new.key_id)


def test_regenerating_without_grace_revokes_the_old_key_at_once(
    session: Session, project_id: int
) -> None:
    owner = owner_of(session)
    old = create_project_key(
        session, owner=owner, project_id=project_id, name="server", scopes=["upload", "manage"]
    )
    new = regenerate_key(
        session, owner=owner, project_id=project_id, key_id=old.key_id, grace="none"
    )
    assert new.key != old.key
    with pytest.raises(AuthenticationError):
        authenticate_project_key(session, old.key, scope="upload")
    assert authenticate_project_key(session, new.key, scope="manage").key_id == new.key_id
    views = {v.id: v for v in list_keys(session, owner=owner, project_id=project_id)}
    assert views[new.key_id].scopes == ("upload", "manage") and views[new.key_id].name == "server"
    assert views[old.key_id].revoked_at is not None
    with pytest.raises(InvalidInputError, match="no longer works"):
        regenerate_key(session, owner=owner, project_id=project_id, key_id=old.key_id, grace="1h")


def test_a_grace_period_keeps_the_old_key_working_until_it_ends(
    session: Session, project_id: int, db_url: str
) -> None:
    owner = owner_of(session)
    old = create_project_key(session, owner=owner, project_id=project_id, name="s", scopes=["read"])
    regenerate_key(session, owner=owner, project_id=project_id, key_id=old.key_id, grace="24h")
    session.commit()
    # A fresh session reads the end back from the database.
    with Session(engine_for(db_url)) as fresh:
        assert authenticate_project_key(fresh, old.key, scope="read").key_id == old.key_id
        views = {v.id: v for v in list_keys(fresh, owner=owner, project_id=project_id)}
        end = views[old.key_id].expires_at
        assert end is not None
        assert timedelta(hours=23) < end - utcnow() <= timedelta(hours=24)
        row = fresh.get(ApiKey, old.key_id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        fresh.add(row)
        fresh.commit()
    with Session(engine_for(db_url)) as fresh:
        with pytest.raises(AuthenticationError):
            authenticate_project_key(fresh, old.key, scope="read")
        views = {v.id: v for v in list_keys(fresh, owner=owner, project_id=project_id)}
        assert views[old.key_id].live is False


def test_a_second_regeneration_never_lengthens_the_grace_period(
    session: Session, project_id: int
) -> None:
    owner = owner_of(session)
    old = create_project_key(session, owner=owner, project_id=project_id, name="s", scopes=["read"])
    regenerate_key(session, owner=owner, project_id=project_id, key_id=old.key_id, grace="1h")
    regenerate_key(session, owner=owner, project_id=project_id, key_id=old.key_id, grace="7d")
    row = session.get(ApiKey, old.key_id)
    assert row is not None and row.expires_at is not None
    assert row.expires_at - utcnow() <= timedelta(hours=1)


@pytest.mark.parametrize("grace", ["", "2h", "forever"])
def test_unknown_grace_periods_are_refused(session: Session, project_id: int, grace: str) -> None:
    owner = owner_of(session)
    old = create_project_key(session, owner=owner, project_id=project_id, name="s", scopes=["read"])
    with pytest.raises(InvalidInputError, match="none, 1h, 24h or 7d"):
        regenerate_key(session, owner=owner, project_id=project_id, key_id=old.key_id, grace=grace)
    assert len(list_keys(session, owner=owner, project_id=project_id)) == 1


def test_revoking_stops_the_key_and_is_idempotent(session: Session, project_id: int) -> None:
    owner = owner_of(session)
    new = create_project_key(session, owner=owner, project_id=project_id, name="s", scopes=["read"])
    first = revoke_project_key(session, owner=owner, project_id=project_id, key_id=new.key_id)
    again = revoke_project_key(session, owner=owner, project_id=project_id, key_id=new.key_id)
    assert first.revoked_at == again.revoked_at and not first.live
    with pytest.raises(AuthenticationError):
        authenticate_project_key(session, new.key, scope="read")

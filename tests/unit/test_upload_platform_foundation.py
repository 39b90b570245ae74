"""The upload platform's shared pieces: key scopes and grace periods, sealed secrets, the outbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.services.accounts.api_keys import authenticate_project_key, create_key, user_for_key
from app.services.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
)
from app.services.core.models import ApiKey, WebhookDelivery, WebhookEndpoint, utcnow
from app.services.core.secret_box import open_secret, seal_secret
from app.services.uploads.ownership import get_owned_project
from app.services.webhooks.outbox import emit
from app.settings import reset_settings
from tests.utils.job_helpers import make_user


def test_a_key_acts_for_its_project_within_its_scopes(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    new = create_key(session, owner=owner, project_name="Site")
    auth = authenticate_project_key(session, new.key, scope="upload")
    assert (auth.project_id, auth.key_id) == (new.project_id, new.key_id)
    row = session.get(ApiKey, new.key_id)
    assert row is not None and row.last_used_at is not None

    row.scopes = "read"
    session.add(row)
    session.flush()
    with pytest.raises(PermissionDeniedError, match="'upload' scope"):
        authenticate_project_key(session, new.key, scope="upload")
    assert authenticate_project_key(session, new.key, scope="read").project_id == new.project_id


@pytest.mark.parametrize("token", [None, "", "jc_nope", "Bearer x", "jc_" + "a" * 300])
def test_unknown_or_malformed_keys_are_refused(session: Session, token: str | None) -> None:
    with pytest.raises(AuthenticationError):
        authenticate_project_key(session, token, scope="read")


def test_a_key_past_its_grace_period_or_revoked_stops_working(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    new = create_key(session, owner=owner)
    row = session.get(ApiKey, new.key_id)
    assert row is not None
    row.expires_at = utcnow() + timedelta(minutes=5)
    session.add(row)
    session.flush()
    assert user_for_key(session, new.key) is not None  # still inside the grace period
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.flush()
    assert user_for_key(session, new.key) is None
    with pytest.raises(AuthenticationError):
        authenticate_project_key(session, new.key, scope="read")


def test_another_persons_project_is_not_found(session: Session) -> None:
    owner = make_user(session, "a@example.com")
    other = make_user(session, "b@example.com")
    new = create_key(session, owner=owner)
    assert get_owned_project(session, owner=owner, project_id=new.project_id).id == new.project_id
    with pytest.raises(NotFoundError):
        get_owned_project(session, owner=other, project_id=new.project_id)
    with pytest.raises(NotFoundError):
        get_owned_project(session, owner=owner, project_id=new.project_id + 99)


def test_sealed_secrets_open_only_with_the_same_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = seal_secret("whsec_abc")
    assert "whsec_abc" not in token
    assert open_secret(token) == "whsec_abc"
    monkeypatch.setenv("SECRET_KEY", "another-secret-key-that-is-long-enough-0123456789")
    reset_settings()
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        open_secret(token)


def test_emit_queues_one_delivery_per_subscribed_enabled_endpoint(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    project_id = create_key(session, owner=owner).project_id
    sealed = seal_secret("whsec_x")
    subscribed = WebhookEndpoint(
        project_id=project_id,
        url="https://a.test/hook",
        events=["upload.completed"],
        secret_enc=sealed,
    )
    other_event = WebhookEndpoint(
        project_id=project_id,
        url="https://b.test/hook",
        events=["upload.deleted"],
        secret_enc=sealed,
    )
    disabled = WebhookEndpoint(
        project_id=project_id,
        url="https://c.test/hook",
        events=["upload.completed"],
        secret_enc=sealed,
        enabled=False,
    )
    session.add_all([subscribed, other_event, disabled])
    session.flush()

    ids = emit(session, project_id=project_id, event_type="upload.completed", data={"id": "up_1"})
    rows = session.exec(select(WebhookDelivery)).all()
    assert [r.id for r in rows] == ids and len(ids) == 1
    assert rows[0].endpoint_id == subscribed.id and rows[0].id.startswith("msg_")
    body = json.loads(rows[0].payload)
    assert body["type"] == "upload.completed" and body["data"] == {"id": "up_1"}
    assert body["timestamp"].endswith("Z")
    with pytest.raises(ValueError):
        emit(session, project_id=project_id, event_type="upload.nope", data={})


def test_a_keys_last_use_is_written_at_most_once_a_minute(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    new = create_key(session, owner=owner)
    row = session.get(ApiKey, new.key_id)
    assert row is not None and row.last_used_at is None
    authenticate_project_key(session, new.key, scope="read")
    first = row.last_used_at
    assert first is not None
    authenticate_project_key(session, new.key, scope="read")
    assert row.last_used_at == first  # a second use within the minute writes nothing
    row.last_used_at = first - timedelta(minutes=2)
    session.add(row)
    session.flush()
    authenticate_project_key(session, new.key, scope="read")
    assert row.last_used_at is not None and row.last_used_at > first

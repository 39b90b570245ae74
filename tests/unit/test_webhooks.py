"""Webhooks end to end on real SQLite, the real huey queue run inline (as a worker would) and a
loopback receiver that verifies every request with the official `standardwebhooks` library."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.services.accounts.api_keys import create_key
from app.services.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.core.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from app.services.webhooks import dispatch
from app.services.webhooks.deliveries import list_deliveries, replay_delivery, send_test_event
from app.services.webhooks.destinations import DestinationRefusedError, check_destination
from app.services.webhooks.endpoints import (
    create_endpoint,
    delete_endpoint,
    list_endpoints,
    rotate_secret,
    set_enabled,
)
from app.services.webhooks.notices import disabled_endpoint_notices
from app.services.webhooks.outbox import emit
from app.services.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS
from app.settings import reset_settings
from tests.utils.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.utils.job_helpers import make_user, run_queue
from tests.utils.outbox import emails, only_email

UPLOAD = {"id": "up_123", "name": "cat.png", "size": 42}


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    reset_settings()


@pytest.fixture
def no_wait(monkeypatch: pytest.MonkeyPatch, allow_private: None) -> None:
    """Retries come due at once (the schedule times zero), so a test needn't wait 5 s."""
    monkeypatch.setenv("WEBHOOK_RETRY_SCALE", "0")
    reset_settings()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def project_id(session: Session) -> int:
    owner = make_user(session, "dev@example.com")
    return create_key(session, owner=owner, project_name="Site").project_id


def _endpoint(session: Session, project_id: int, url: str, events: list[str] | None = None):
    new = create_endpoint(
        session, project_id=project_id, url=url, events=events or ["upload.completed"]
    )
    session.commit()
    return new


def _emit(session: Session, project_id: int, event: str = "upload.completed") -> list[str]:
    ids = emit(session, project_id=project_id, event_type=event, data=UPLOAD)
    session.commit()
    return ids


def _delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    session.expire_all()
    row = session.get(WebhookDelivery, delivery_id)
    assert row is not None
    return row


def _attempts(session: Session, delivery_id: str) -> list[WebhookAttempt]:
    session.expire_all()
    return list(
        session.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)  # type: ignore[arg-type]
        ).all()
    )


def test_an_event_is_delivered_signed_with_the_standard_webhooks_library(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url + "/hooks")
    assert new.secret.startswith("whsec_")
    assert len(__import__("base64").b64decode(new.secret[6:])) >= 24
    stored = session.get(WebhookEndpoint, new.id)
    assert stored is not None and new.secret not in stored.secret_enc

    (delivery_id,) = _emit(session, project_id)
    run_queue()  # kicked by the commit, no sweep needed

    (request,) = receiver.requests
    assert request.path == "/hooks"
    payload = Webhook(new.secret).verify(request.body, request.headers)
    assert payload["type"] == "upload.completed" and payload["data"] == UPLOAD
    assert request.headers["webhook-id"] == delivery_id
    assert request.body == _delivery(session, delivery_id).payload  # byte for byte
    with pytest.raises(WebhookVerificationError):
        Webhook(new.secret).verify(request.body + " ", request.headers)
    row = _delivery(session, delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 1, 200)
    (attempt,) = _attempts(session, delivery_id)
    assert (attempt.status_code, attempt.trigger, attempt.error) == (200, "auto", None)
    assert attempt.response_excerpt == '{"ok":true}'


def test_a_rolled_back_event_is_never_sent(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    _endpoint(session, project_id, receiver.url)
    emit(session, project_id=project_id, event_type="upload.completed", data=UPLOAD)
    session.rollback()
    assert run_queue() == []
    assert dispatch.sweep() == []
    assert receiver.requests == []


def test_a_failed_attempt_is_retried_later_with_the_same_webhook_id(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    receiver.script(Reply(500, b"x" * 5000), Reply(200))
    (delivery_id,) = _emit(session, project_id)
    before = utcnow()
    run_queue()
    row = _delivery(session, delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.next_attempt_at is not None
    assert timedelta(seconds=5) <= row.next_attempt_at - before < timedelta(seconds=7)
    (attempt,) = _attempts(session, delivery_id)
    assert attempt.status_code == 500 and len(attempt.response_excerpt) == 1000
    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None and endpoint.failing_since is not None

    assert dispatch.sweep() == []  # not due yet
    assert dispatch.sweep(now=before + timedelta(seconds=6)) == [delivery_id]
    # The sender checks the real clock too: queued early, it does nothing.
    run_queue()
    assert len(receiver.requests) == 1


def test_retries_follow_the_schedule_then_the_delivery_fails(
    session: Session, project_id: int, receiver: WebhookReceiver, no_wait: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    receiver.script(Reply(503))
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    for _ in range(MAX_ATTEMPTS - 1):
        assert dispatch.sweep() == [delivery_id]
        run_queue()
    assert dispatch.sweep() == []
    row = _delivery(session, delivery_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 8, None)
    assert len(RETRY_DELAYS) == 7 and MAX_ATTEMPTS == 8
    assert set(receiver.ids()) == {delivery_id} and len(receiver.requests) == 8
    for request in receiver.requests:
        Webhook(new.secret).verify(request.body, request.headers)


def test_success_after_failures_clears_failing_since(
    session: Session, project_id: int, receiver: WebhookReceiver, no_wait: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    receiver.script(Reply(500), Reply(200))
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    dispatch.sweep()
    run_queue()
    assert _delivery(session, delivery_id).status == "succeeded"
    assert receiver.ids() == [delivery_id, delivery_id]
    session.expire_all()
    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None and endpoint.failing_since is None


def test_a_410_disables_the_endpoint_and_fails_its_pending_deliveries(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    receiver.script(Reply(410))
    first, second = _emit(session, project_id)[0], _emit(session, project_id)[0]
    queued = run_queue()
    assert len(queued) == 2 and len(receiver.requests) == 1  # the second found it disabled
    session.expire_all()
    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None and not endpoint.enabled
    assert endpoint.disabled_reason == "The endpoint answered 410 Gone."
    for delivery_id in (first, second):
        row = _delivery(session, delivery_id)
        assert row.status == "failed" and row.last_error == "endpoint disabled"
    assert _emit(session, project_id) == []  # no new events for it
    assert disabled_endpoint_notices(session, project_id=project_id) == [
        f"Webhook endpoint {receiver.url} was disabled: The endpoint answered 410 Gone."
    ]
    told = only_email(session, "webhook_endpoint_disabled", to="dev@example.com")
    assert told.context["endpoint_url"] == receiver.url and told.context["project_name"] == "Site"
    assert told.context["reason"] == "The endpoint answered 410 Gone."
    assert told.subject == "A webhook endpoint of Site was disabled"


def test_an_endpoint_failing_for_five_days_is_disabled_and_the_owner_told(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None
    endpoint.failing_since = utcnow() - timedelta(days=4, hours=23)
    session.add(endpoint)
    session.commit()
    receiver.script(Reply(500))
    _emit(session, project_id)
    run_queue()
    session.expire_all()
    assert session.get(WebhookEndpoint, new.id).enabled  # type: ignore[union-attr]
    assert emails(session, "webhook_endpoint_disabled") == []  # 4 days 23 hours: not yet

    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None
    endpoint.failing_since = utcnow() - timedelta(days=5, minutes=1)
    session.add(endpoint)
    session.commit()
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    session.expire_all()
    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None and not endpoint.enabled
    assert (endpoint.disabled_reason or "").startswith("Disabled after failing for 5 days")
    assert _delivery(session, delivery_id).status == "failed"
    (notice,) = disabled_endpoint_notices(session, project_id=project_id)
    assert "failing for 5 days" in notice
    told = only_email(session, "webhook_endpoint_disabled", to="dev@example.com")
    assert told.context["reason"].startswith("Disabled after failing for 5 days")
    set_enabled(session, project_id=project_id, endpoint_id=new.id, enabled=True)
    session.commit()
    assert disabled_endpoint_notices(session, project_id=project_id) == []
    # The owner switching it off knows already: no email for that.
    set_enabled(session, project_id=project_id, endpoint_id=new.id, enabled=False)
    assert len(emails(session, "webhook_endpoint_disabled")) == 1


def test_redirects_are_not_followed(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    _endpoint(session, project_id, receiver.url + "/old")
    receiver.script(Reply(302, b"", {"Location": receiver.url + "/new"}))
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    assert [r.path for r in receiver.requests] == ["/old"]
    row = _delivery(session, delivery_id)
    assert (row.status, row.last_status_code, row.last_error) == ("pending", 302, "HTTP 302")


def test_a_rotated_secret_signs_with_both_for_24_hours(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    rotated = rotate_secret(session, project_id=project_id, endpoint_id=new.id)
    session.commit()
    assert rotated.startswith("whsec_") and rotated != new.secret
    _emit(session, project_id)
    run_queue()
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(new.secret).verify(request.body, request.headers)
    Webhook(rotated).verify(request.body, request.headers)

    endpoint = session.get(WebhookEndpoint, new.id)
    assert endpoint is not None
    endpoint.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    session.add(endpoint)
    session.commit()
    _emit(session, project_id)
    run_queue()
    later = receiver.requests[1]
    Webhook(rotated).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new.secret).verify(later.body, later.headers)


def test_replay_sends_the_same_message_again_even_after_success(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    assert replay_delivery(session, delivery_id=delivery_id, project_id=project_id) == receiver.url
    session.commit()
    run_queue()
    first, again = receiver.requests
    assert again.headers["webhook-id"] == delivery_id and again.body == first.body
    Webhook(new.secret).verify(again.body, again.headers)
    assert [a.trigger for a in _attempts(session, delivery_id)] == ["auto", "replay"]
    assert _delivery(session, delivery_id).status == "succeeded"


def test_replay_of_a_failed_delivery_gets_one_more_attempt(
    session: Session, project_id: int, receiver: WebhookReceiver, no_wait: None
) -> None:
    _endpoint(session, project_id, receiver.url)
    receiver.script(Reply(500))
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    for _ in range(MAX_ATTEMPTS - 1):
        dispatch.sweep()
        run_queue()
    assert _delivery(session, delivery_id).status == "failed"
    receiver.script(Reply(204))
    replay_delivery(session, delivery_id=delivery_id)
    session.commit()
    run_queue()
    row = _delivery(session, delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 9, 204)


def test_replay_refuses_unknown_other_projects_and_disabled_endpoints(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    (delivery_id,) = _emit(session, project_id)
    with pytest.raises(NotFoundError):
        replay_delivery(session, delivery_id="msg_nope")
    with pytest.raises(NotFoundError):
        replay_delivery(session, delivery_id=delivery_id, project_id=project_id + 1)
    row = _delivery(session, delivery_id)
    row.leased_until = utcnow() + timedelta(seconds=30)  # a worker is sending it
    session.add(row)
    session.commit()
    with pytest.raises(ConflictError, match="being sent right now"):
        replay_delivery(session, delivery_id=delivery_id)
    set_enabled(session, project_id=project_id, endpoint_id=new.id, enabled=False)
    session.commit()
    assert _delivery(session, delivery_id).last_error == "endpoint disabled"
    with pytest.raises(ConflictError, match="enable it"):
        replay_delivery(session, delivery_id=delivery_id)


def test_a_test_event_goes_to_one_endpoint_and_shows_in_its_log(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url + "/a")
    other = _endpoint(session, project_id, receiver.url + "/b")
    delivery_id = send_test_event(session, project_id=project_id, endpoint_id=new.id)
    session.commit()
    run_queue()
    (request,) = receiver.requests
    assert request.path == "/a"
    assert Webhook(new.secret).verify(request.body, request.headers)["type"] == "webhook.test"
    (logged,) = list_deliveries(session, project_id=project_id, endpoint_id=new.id)
    assert (logged.id, logged.event_type, logged.status) == (
        delivery_id,
        "webhook.test",
        "succeeded",
    )
    assert [(a.trigger, a.status_code) for a in logged.log] == [("test", 200)]
    assert list_deliveries(session, project_id=project_id, endpoint_id=other.id) == []
    with pytest.raises(NotFoundError):
        list_deliveries(session, project_id=project_id + 1, endpoint_id=new.id)


def test_a_lease_keeps_a_delivery_to_one_sender_until_it_runs_out(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    _endpoint(session, project_id, receiver.url)
    ids = emit(session, project_id=project_id, event_type="upload.completed", data=UPLOAD)
    row = session.get(WebhookDelivery, ids[0])
    assert row is not None
    row.leased_until = utcnow() + timedelta(minutes=1)  # a worker is sending it
    session.add(row)
    session.commit()
    run_queue()
    assert receiver.requests == [] and dispatch.sweep() == []
    assert dispatch.sweep(now=utcnow() + timedelta(minutes=2)) == ids
    row = _delivery(session, ids[0])
    row.leased_until = utcnow() - timedelta(seconds=1)  # that worker died
    session.add(row)
    session.commit()
    run_queue()
    assert receiver.ids() == ids
    assert _delivery(session, ids[0]).status == "succeeded"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fc00::1]/hook",
        "http://[fd12:3456::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",
        "http://[fe80::1]/hook",
        "http://localhost/hook",  # a name that resolves to loopback
    ],
)
def test_private_destinations_are_refused_at_creation(
    session: Session, project_id: int, url: str
) -> None:
    with pytest.raises(DestinationRefusedError, match="public addresses"):
        create_endpoint(session, project_id=project_id, url=url, events=["upload.completed"])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "https://"),
        ("javascript:alert(1)", "https://"),
        ("https://user:pw@example.com/x", "user name or password"),
        ("https://", "no host"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com:99999/", "not valid"),
        ("", "1 to 2000"),
        ("https://example.com/" + "a" * 2000, "1 to 2000"),
        ("https://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_malformed_destinations_get_a_clear_message(
    session: Session, project_id: int, url: str, message: str, allow_private: None
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        create_endpoint(session, project_id=project_id, url=url, events=["upload.completed"])


def test_a_public_address_is_accepted_and_connected_to_as_checked() -> None:
    destination = check_destination("https://93.184.215.14:8443/x", allow_private=False)
    assert (destination.address, destination.port, destination.scheme) == (
        "93.184.215.14",
        8443,
        "https",
    )


def test_a_name_resolving_to_loopback_is_refused_at_send_time(
    session: Session,
    project_id: int,
    receiver: WebhookReceiver,
    allow_private: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    _endpoint(session, project_id, f"http://localhost:{port}/hook")  # allowed when saved
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false")  # then the rules tighten
    reset_settings()
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    assert receiver.requests == []
    (attempt,) = _attempts(session, delivery_id)
    assert attempt.status_code is None
    assert (attempt.error or "").startswith("Refused: The URL's host resolves to 127.0.0.1")
    assert _delivery(session, delivery_id).status == "pending"


def test_events_are_checked_and_endpoints_belong_to_their_project(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    with pytest.raises(InvalidInputError, match="at least one event"):
        create_endpoint(session, project_id=project_id, url=receiver.url, events=[])
    with pytest.raises(InvalidInputError, match="Unknown event 'upload.exploded'"):
        create_endpoint(
            session, project_id=project_id, url=receiver.url, events=["upload.exploded"]
        )
    new = create_endpoint(
        session,
        project_id=project_id,
        url=receiver.url,
        events=["upload.deleted", "upload.completed", "upload.deleted"],
    )
    (listed,) = list_endpoints(session, project_id=project_id)
    assert listed.events == ["upload.completed", "upload.deleted"]
    for call in (
        lambda: rotate_secret(session, project_id=project_id + 1, endpoint_id=new.id),
        lambda: delete_endpoint(session, project_id=project_id + 1, endpoint_id=new.id),
        lambda: set_enabled(session, project_id=project_id + 1, endpoint_id=new.id, enabled=False),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_deleting_an_endpoint_removes_its_deliveries_and_log(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    new = _endpoint(session, project_id, receiver.url)
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    delete_endpoint(session, project_id=project_id, endpoint_id=new.id)
    session.commit()
    assert session.get(WebhookDelivery, delivery_id) is None
    assert _attempts(session, delivery_id) == []
    assert list_endpoints(session, project_id=project_id) == []


def test_only_subscribed_events_are_sent(
    session: Session, project_id: int, receiver: WebhookReceiver, allow_private: None
) -> None:
    _endpoint(session, project_id, receiver.url, ["upload.deleted"])
    assert _emit(session, project_id, "upload.completed") == []
    (delivery_id,) = _emit(session, project_id, "upload.deleted")
    run_queue()
    assert receiver.ids() == [delivery_id]
    assert json.loads(receiver.requests[0].body)["type"] == "upload.deleted"


def test_cli_replay_queues_one_and_refuses_unknown_ids(
    session: Session,
    project_id: int,
    receiver: WebhookReceiver,
    allow_private: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main

    _endpoint(session, project_id, receiver.url)
    (delivery_id,) = _emit(session, project_id)
    run_queue()
    assert main(["webhooks", "replay", delivery_id]) == 0
    out = capsys.readouterr().out
    assert out == f"queued a replay of {delivery_id} to {receiver.url}\n"
    run_queue()
    assert receiver.ids() == [delivery_id, delivery_id]

    assert main(["webhooks", "replay", "msg_nope"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "error: No such webhook delivery.\n")

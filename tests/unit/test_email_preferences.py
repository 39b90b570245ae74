"""Email templates for every kind, unsubscribe tokens, the /account switches and the
one-click unsubscribe API, on a real migrated SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api.main import create_api
from app.services.core.errors import InvalidInputError
from app.services.core.models import EmailMessage, User
from app.services.notify.kinds import KINDS
from app.services.notify.outbox import notify
from app.services.notify.preferences import (
    email_preferences,
    resubscribe,
    set_email_preference,
    unsubscribe,
)
from app.services.notify.render import TEMPLATES, render
from app.services.notify.tokens import (
    INVALID_TOKEN,
    InvalidUnsubscribeTokenError,
    read_unsubscribe_token,
    unsubscribe_token,
)
from app.settings import reset_settings
from tests.utils.job_helpers import make_user

CONTEXTS: dict[str, dict[str, Any]] = {
    "studio_job_finished": {"job_id": 1, "job_name": "Cats", "status": "failed", "items_done": 3,
                            "items_failed": 2, "error": "Disk full", "url": "/studio"},
    "generation_batch_done": {"run_id": 2, "title": "Night city", "images_done": 4,
                              "images_failed": 0, "url": "/gallery"},
    "lora_finished": {"lora_id": 3, "name": "My face", "status": "ready", "error": None,
                      "url": "/loras"},
    "low_credits": {"balance": 3, "threshold": 10, "url": "/credits"},
    "payment_receipt": {"payment_id": "pi_9", "amount": 1250, "currency": "usd", "credits": 100,
                        "description": "100 credits", "paid_at": "2026-12-07 20:00 UTC",
                        "url": "/credits"},
    "webhook_endpoint_disabled": {"project_id": 4, "project_name": "Site",
                                  "endpoint_url": "https://hooks.example/x",
                                  "reason": "410 Gone", "url": "/projects/4/webhooks"},
    "upload_failed": {"project_id": 4, "project_name": "Site", "upload_id": "up_1",
                      "filename": "cat.png", "status": "quarantined", "reason": "EICAR found",
                      "url": "/projects/4/uploads"},
    "upload_daily_summary": {"project_id": 4, "project_name": "Site", "day": "2026-12-06",
                             "ready": 10, "rejected": 1, "quarantined": 0, "bytes": 123456789,
                             "url": "/projects/4/uploads"},
}  # fmt: skip
NAMED = {
    "studio_job_finished": "Cats",
    "generation_batch_done": "Night city",
    "lora_finished": "My face",
    "low_credits": "3 credits left",
    "payment_receipt": "12.50 USD",
    "webhook_endpoint_disabled": "https://hooks.example/x",
    "upload_failed": "cat.png",
    "upload_daily_summary": "117.7 MB",
}


def _message(kind: str, context: dict[str, Any], user_id: int = 5) -> EmailMessage:
    subject = f"About {NAMED[kind]}"
    return EmailMessage(user_id=user_id, to_address="a@example.com", kind=kind, subject=subject,
                        context=context)  # fmt: skip


def test_every_kind_has_an_html_and_a_text_template_and_the_contexts_cover_every_kind() -> None:
    assert set(CONTEXTS) == set(KINDS)
    for kind in KINDS:
        assert (TEMPLATES / f"{kind}.html").is_file() and (TEMPLATES / f"{kind}.txt").is_file()


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_renders_what_it_is_about_in_both_parts(kind: str) -> None:
    shown = render(_message(kind, CONTEXTS[kind]))
    assert NAMED[kind] in shown.text and NAMED[kind] in shown.html
    for part in (shown.text, shown.html):
        assert "Why you got this" in part and KINDS[kind].label in part
        assert "/account#email" in part and "/unsubscribe?token=" in part
        assert "None" not in part  # an empty value is left out, not printed
    assert shown.html.lstrip().startswith("<!DOCTYPE html>")
    assert 'name="color-scheme" content="light dark"' in shown.html
    assert shown.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_subject_with_line_breaks_stays_one_header_line(session: Session) -> None:
    user = make_user(session, "ada@example.com")
    odd = "Your images for two\nlines\r\nBcc: x@evil.example"
    message = notify(session, user=user, kind="generation_batch_done", subject=odd,
                     context=CONTEXTS["generation_batch_done"])  # fmt: skip
    assert message is not None
    assert message.subject == "Your images for two lines Bcc: x@evil.example"


def test_html_is_escaped_and_links_stay_on_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_URL", "https://app.example")
    reset_settings()
    context = {**CONTEXTS["upload_failed"], "filename": '<img src=x onerror="alert(1)">',
               "url": "javascript:alert(1)"}  # fmt: skip
    shown = render(_message("upload_failed", context))
    assert "<img src=x" not in shown.html and "&lt;img src=x onerror=" in shown.html
    assert "javascript:" not in shown.html
    assert 'href="https://app.example/"' in shown.html
    assert '<img src=x onerror="alert(1)">' in shown.text  # plain text is not HTML


def test_a_context_missing_what_its_kind_promised_does_not_render() -> None:
    context = dict(CONTEXTS["low_credits"])
    del context["balance"]
    with pytest.raises(ValueError, match="lacks context \\['balance'\\]"):
        render(_message("low_credits", context))


def test_tokens_name_the_user_and_kind_and_refuse_forgeries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = unsubscribe_token(user_id=42, kind="low_credits")
    found = read_unsubscribe_token(token)
    assert (found.user_id, found.kind) == (42, "low_credits")
    header, claims, signature = token.split(".")
    forged = [
        "",
        "not-a-token",
        token[:-3],
        f"{header}.{claims}.{signature[::-1]}",
        unsubscribe_token(user_id=42, kind="low_credits") + "x",
        "a" * 5000,
    ]
    for bad in forged:
        with pytest.raises(InvalidUnsubscribeTokenError) as caught:
            read_unsubscribe_token(bad)
        assert caught.value.message == INVALID_TOKEN
    monkeypatch.setenv("SECRET_KEY", "another-secret-key-that-is-long-enough-98765")
    reset_settings()
    with pytest.raises(InvalidUnsubscribeTokenError):
        read_unsubscribe_token(token)  # signed with another server's secret


def test_switches_default_on_and_save_each_kind(session: Session) -> None:
    user = make_user(session, "sam@example.com")
    assert all(p.enabled for p in email_preferences(user))
    assert [p.kind for p in email_preferences(user)] == list(KINDS)
    set_email_preference(session, user=user, kind="low_credits", enabled=False)
    set_email_preference(session, user=user, kind="upload_failed", enabled=False)
    set_email_preference(session, user=user, kind="low_credits", enabled=False)  # twice: once
    session.commit()
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh is not None and fresh.email_opt_out == ["low_credits", "upload_failed"]
    set_email_preference(session, user=fresh, kind="low_credits", enabled=True)
    session.commit()
    assert fresh.email_opt_out == ["upload_failed"]
    with pytest.raises(InvalidInputError):
        set_email_preference(session, user=fresh, kind="everything", enabled=False)


def test_unsubscribe_and_resubscribe_by_token(session: Session) -> None:
    user = make_user(session, "kim@example.com")
    assert user.id is not None
    token = unsubscribe_token(user_id=user.id, kind="payment_receipt")
    assert unsubscribe(session, token=token).enabled is False
    assert unsubscribe(session, token=token).enabled is False  # a second click changes nothing
    session.commit()
    assert user.email_opt_out == ["payment_receipt"]
    assert resubscribe(session, token=token).enabled is True
    session.commit()
    assert user.email_opt_out == []
    with pytest.raises(InvalidUnsubscribeTokenError):  # nobody behind a valid signature
        unsubscribe(session, token=unsubscribe_token(user_id=99999, kind="low_credits"))


def test_the_one_click_api(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_URL", "https://app.example")
    reset_settings()
    user = make_user(session, "lee@example.com")
    assert user.id is not None
    token = unsubscribe_token(user_id=user.id, kind="upload_daily_summary")
    client = TestClient(create_api())
    answer = client.post(
        "/api/unsubscribe", params={"token": token}, data={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200 and answer.json()["enabled"] is False
    session.expire_all()
    assert session.get(User, user.id).email_opt_out == ["upload_daily_summary"]  # type: ignore[union-attr]

    for bad in ("forged", token[:-2] + "zz"):
        refused = client.post("/api/unsubscribe", params={"token": bad})
        assert refused.status_code == 400 and refused.json() == {"detail": INVALID_TOKEN}
    assert client.post("/api/unsubscribe").status_code == 422  # no token at all

    opened = client.get("/api/unsubscribe", params={"token": token}, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"https://app.example/unsubscribe?token={token}"

"""Product analytics: events reach a loopback PostHog through the official SDK's real batch
POST (gzip), after the change commits; nothing is sent without POSTHOG_API_KEY."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from app.services import analytics
from app.services.accounts import auth
from app.services.generation import runs
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.library.writes import create_prompt
from app.settings import reset_settings
from tests.utils.fakes.posthog_server import FakePostHog
from tests.utils.job_helpers import make_user, run_queue
from tests.utils.prompt_factories import prompt_data

KEY = "phc_test_project_key"


@pytest.fixture
def posthog(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePostHog]:
    with FakePostHog() as server:
        monkeypatch.setenv("POSTHOG_HOST", server.url)
        monkeypatch.setenv("POSTHOG_API_KEY", KEY)
        reset_settings()
        yield server
        analytics.shutdown()


def sent(server: FakePostHog) -> list[tuple[str, str]]:
    analytics.shutdown()  # the SDK's thread sends what it queued, then stops
    return [(e["event"], e["distinct_id"]) for e in server.events]


def test_a_sign_up_is_sent_once_it_commits(session: Session, posthog: FakePostHog) -> None:
    ada = auth.create_user(session, email="ada@example.com", password=None)
    assert sent(posthog) == []  # not committed yet
    session.commit()
    assert sent(posthog) == [("signed_up", str(ada.id))]
    [request] = posthog.requests
    assert request.headers.get("content-encoding") == "gzip" and request.body["api_key"] == KEY
    [event] = posthog.events
    assert event["properties"]["role"] == "user"
    assert "ada@example.com" not in str(posthog.requests[0].body)  # ids only, no email

    auth.create_user(session, email="bo@example.com", password=None)
    session.rollback()  # a sign-up that never happened is not counted
    assert len(sent(posthog)) == 1


def test_a_finished_generation_is_sent(session: Session, posthog: FakePostHog) -> None:
    ada = make_user(session, "ada@example.com")
    assert ada.id is not None
    saved = create_prompt(session, owner_id=ada.id, title="Dusk", data=prompt_data("A pier"))
    runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id, n=2)
    run_queue()
    assert sent(posthog) == [("signed_up", str(ada.id)), ("generation_done", str(ada.id))]
    done = posthog.events[-1]["properties"]
    assert (done["model"], done["images"]) == (OFFLINE_MODEL_ID, 2)


def test_nothing_is_sent_without_a_key(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakePostHog() as server:
        monkeypatch.setenv("POSTHOG_HOST", server.url)
        reset_settings()
        auth.create_user(session, email="ada@example.com", password=None)
        session.commit()
        analytics.capture(1, "analysis_done")
        assert sent(server) == []
    with pytest.raises(ValueError, match="unknown analytics event"):
        analytics.capture(1, "clicked_everything")

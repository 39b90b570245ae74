"""The signed-in overview: a new account's zeros, then this month's usage and the newest work."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlmodel import Session

from app.services.accounts import overview
from app.services.analyzer import conversations
from app.services.billing import credits
from app.services.core.models import Analysis
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image
from app.services.studio import jobs
from tests.utils.job_helpers import make_user, photo, spec, uploads
from tests.utils.prompt_factories import make_prompt


def test_a_new_account_has_an_empty_overview(session: Session) -> None:
    ada = make_user(session, "ada@example.com")
    view = overview.overview(session, user=ada, storage=get_storage())
    assert (view.balance, view.credits_spent_this_month, view.analyses_this_month) == (0, 0, 0)
    assert (view.plan, view.prompts_total) == ("Free", 0)
    assert view.recent_analyses == view.recent_prompts == view.recent_jobs == []


def test_the_overview_shows_usage_and_newest_work_of_this_user_only(session: Session) -> None:
    ada = make_user(session, "ada@example.com", balance=50)
    bob = make_user(session, "bob@example.com", balance=50)
    assert ada.id is not None and bob.id is not None
    storage = get_storage()
    asset = ingest_image(
        session=session,
        storage=storage,
        owner_id=ada.id,
        stream=io.BytesIO(photo()),
        filename="a.jpg",
    )
    assert asset.id is not None
    conversations.start(
        session, user_id=ada.id, asset_id=asset.id, model="local/x", title="Harbour"
    )
    session.add(Analysis(user_id=ada.id, provider="local", model="local/x", status="succeeded"))
    session.add(Analysis(user_id=bob.id, provider="local", model="local/x", status="succeeded"))
    # Last month's analysis doesn't count this month.
    session.add(
        Analysis(
            user_id=ada.id,
            provider="local",
            model="local/x",
            created_at=datetime(2020, 1, 5, tzinfo=UTC),
        )
    )
    make_prompt(session, ada, "Ada's sunset", visibility="private")
    make_prompt(session, bob, "Bob's public one", visibility="public")
    session.commit()
    credits.reserve(session, user_id=ada.id, amount=7, idempotency_key="t:1", reference="test")
    credits.commit(session, key="t:1", actual=7)
    jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("one.jpg", photo())), mode="batch"
    )
    session.commit()

    view = overview.overview(session, user=ada, storage=storage)
    assert view.balance == 43 and view.credits_spent_this_month == 7
    assert view.analyses_this_month == 1 and view.prompts_total == 1
    assert [a.title for a in view.recent_analyses] == ["Harbour"]
    assert [p.title for p in view.recent_prompts] == ["Ada's sunset"]
    assert [(j.total, j.mode) for j in view.recent_jobs] == [(1, "batch")]

"""Two saves that bring the same new tag at once, on a real PostgreSQL: the one that loses the
race to insert the tag takes the winner's row instead of failing (the load test's 500s)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.services.core.db import engine_for
from app.services.core.models import PromptTag, Tag
from app.services.library.writes import create_prompt, get_or_create_tags
from tests.utils.prompt_factories import make_user, prompt_data

pytestmark = pytest.mark.integration


def _wait_until_blocked(pg_url: str, deadline: float, outcome: dict[str, object]) -> None:
    """Until some other connection waits on a lock (the second insert of the same name)."""
    with engine_for(pg_url).connect() as conn:
        while time.monotonic() < deadline and not outcome:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
            if waiting:
                return
            conn.rollback()  # a fresh snapshot of pg_stat_activity each time
            time.sleep(0.01)
    raise AssertionError(f"the second save never waited on the tag insert: {outcome}")


def test_the_same_new_tag_saved_twice_at_once(pg_url: str, pg_session: Session) -> None:
    owner = make_user(pg_session, "racer")
    pg_session.commit()
    assert owner.id is not None
    engine = engine_for(pg_url)
    outcome: dict[str, object] = {}

    def second_save() -> None:
        with Session(engine, expire_on_commit=False) as other:
            try:
                prompt = create_prompt(
                    other,
                    owner_id=owner.id,
                    title="Second",
                    data=prompt_data("A lighthouse at dusk"),
                    tags=["dusk", "sea"],
                )
                other.commit()
                outcome["prompt"] = prompt.id
            except Exception as e:  # what the test reports
                outcome["error"] = e

    with Session(engine, expire_on_commit=False) as first:
        [tag] = get_or_create_tags(first, ["dusk"])  # inserted, not yet committed
        thread = threading.Thread(target=second_save)
        thread.start()
        _wait_until_blocked(pg_url, time.monotonic() + 20, outcome)
        first.commit()
    thread.join(20)
    assert "error" not in outcome, outcome.get("error")
    rows = pg_session.exec(select(Tag).where(Tag.name == "dusk")).all()
    assert [r.id for r in rows] == [tag.id]
    linked = pg_session.exec(
        select(PromptTag).where(PromptTag.prompt_id == outcome["prompt"])
    ).all()
    assert {link.tag_id for link in linked} >= {tag.id}

"""Generated images in the gallery on a real PostgreSQL: the entries, their full-text search
(tsvector), the origin filter and each version's average fidelity, as on SQLite."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.core.models import Prompt
from app.services.core.storage import get_storage
from app.services.generation import round_trip, runs
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.library import gallery
from app.services.library.writes import create_prompt
from tests.utils.job_helpers import make_user, run_queue
from tests.utils.prompt_factories import prompt_data

pytestmark = pytest.mark.integration


def test_generated_entries_filter_search_and_average_on_postgres(pg_session: Session) -> None:
    session = pg_session
    ada = make_user(session, "ada@example.com")
    assert ada.id is not None
    data = prompt_data("A lighthouse at dusk", color_palette=[{"hex": "#1b2a49"}])
    source = create_prompt(session, owner_id=ada.id, title="Lighthouse", data=data)
    session.commit()
    started = runs.start_generation(
        session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=source.id, n=2
    )
    run_queue()
    done = runs.get_generation(session, user=ada, generation_id=started.id)
    entries = [i.gallery_prompt_id for i in done.images]
    assert done.status == "done" and all(entries)
    assert all(i.fidelity_score is not None for i in done.images)

    def listed(**query: object) -> list[int]:
        page = gallery.list_prompts(
            session,
            storage=get_storage(),
            viewer=ada,
            query=gallery.GalleryQuery(**query),  # type: ignore[arg-type]
        )
        return [c.id for c in page.items]

    assert listed(origin="generated") == list(reversed(entries))
    assert listed(origin="analyzed") == [source.id]
    assert set(listed(text="lighthouse", origin="generated")) == set(entries)
    assert all(session.get(Prompt, e).origin == "generated" for e in entries)  # type: ignore[union-attr]

    [version] = round_trip.fidelity_by_version(session, prompt_id=source.id or 0, viewer=ada)
    assert version.version == 1 and version.average.images == 2

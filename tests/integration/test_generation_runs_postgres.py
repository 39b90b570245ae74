"""Generation runs on a real PostgreSQL: the same rows, queue task and credits as on SQLite."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.billing import credits
from app.services.core.models import Asset
from app.services.core.storage import get_storage
from app.services.generation import metadata, runs
from app.services.generation.render import OFFLINE_MODEL_ID
from tests.utils.job_helpers import make_user, run_queue
from tests.utils.prompt_factories import prompt_data

pytestmark = pytest.mark.integration


def test_an_offline_run_with_a_seed_past_int4_lands_on_postgres(pg_session: Session) -> None:
    session = pg_session
    ada = make_user(session, "ada@example.com", balance=5)
    seed = 2**32 - 1  # the largest seed: the next image's wraps to 0
    started = runs.start_generation(
        session, user=ada, model=OFFLINE_MODEL_ID, prompt=prompt_data("A red boat"), n=2, seed=seed
    )
    run_queue()
    done = runs.get_generation(session, user=ada, generation_id=started.id)
    assert done.status == "done" and [i.seed for i in done.images] == [seed, 0]
    asset = session.get(Asset, done.images[0].asset_id)
    assert asset is not None
    found = metadata.read(get_storage().read_bytes(asset.storage_key))
    assert found is not None and found.seed == seed and found.prompt_id is None
    assert credits.balance(session, user_id=ada.id or 0) == 5

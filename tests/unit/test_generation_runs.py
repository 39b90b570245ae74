"""Generation runs: start (priced, reserved per image), the queue task, cancel, recovery.

Real SQLite, the real huey queue of the test's DATA_DIR, and Together's loopback fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from huey.api import Task
from sqlmodel import Session, select

from app.services.billing import credits
from app.services.core.errors import (
    InsufficientCreditsError,
    InvalidInputError,
    MissingKeyError,
    NotFoundError,
    UnknownModelError,
)
from app.services.core.models import Asset, Generation, Prompt, User, utcnow
from app.services.core.queue import get_huey
from app.services.core.storage import get_storage
from app.services.generation import metadata, run_queue, runs
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.run_lease import claim
from app.services.generation.run_worker import _image, _mark_running, _run_image
from app.services.library.writes import add_version, create_prompt
from app.settings import reset_settings
from tests.utils.fakes.together_server import KEY, FakeTogetherServer, error, serve
from tests.utils.job_helpers import make_user
from tests.utils.job_helpers import run_queue as run_the_queue
from tests.utils.outbox import only_email
from tests.utils.prompt_factories import prompt_data

SCHNELL = "black-forest-labs/FLUX.1-schnell"


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=20)


@pytest.fixture
def saved(session: Session, ada: User) -> Prompt:
    assert ada.id is not None
    data = prompt_data(
        "A lighthouse on a cliff at dusk",
        color_palette=[{"hex": "#1b2a49"}, {"hex": "#e8a33d"}],
        text_render=[{"text": "HOLD FAST", "position": "bottom center"}],
    )
    return create_prompt(session, owner_id=ada.id, title="Lighthouse", data=data)


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogetherServer]:
    for server in serve():
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", KEY)
        reset_settings()
        yield server


def queued_tasks() -> list[Task]:
    """The generation tasks waiting in this test's queue."""
    return [task for task in get_huey().pending() if task.name == run_queue.RUN_TASK]


def balance(session: Session, user: User) -> int:
    assert user.id is not None
    return credits.balance(session, user_id=user.id)


def file_of(session: Session, asset_id: int | None) -> bytes:
    asset = session.get(Asset, asset_id)
    assert asset is not None
    return get_storage().read_bytes(asset.storage_key)


def test_offline_generation_lands_images_with_their_metadata(
    session: Session, ada: User, saved: Prompt
) -> None:
    started = runs.start_generation(
        session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id, n=2, seed=7,
        aspect="16:9", preset="film-noir",
    )  # fmt: skip
    assert started.status == "queued" and [i.status for i in started.images] == ["queued"] * 2
    assert [i.waiting_ahead for i in started.images] == [0, 1]
    assert [t.name for t in queued_tasks()] == [run_queue.RUN_TASK]  # nothing ran in here

    run_the_queue()

    done = runs.get_generation(session, user=ada, generation_id=started.id)
    assert done.status == "done" and done.credits_charged == 0
    assert [(i.status, i.seed) for i in done.images] == [("done", 7), ("done", 8)]
    for image in done.images:
        asset = session.get(Asset, image.asset_id)
        assert asset is not None and asset.owner_id == ada.id
        assert (asset.width, asset.height) == (done.width, done.height)
        found = metadata.read(file_of(session, image.asset_id))
        assert found is not None
        assert (found.model, found.provider, found.seed) == (
            OFFLINE_MODEL_ID,
            "offline",
            image.seed,
        )
        assert (found.prompt_id, found.prompt_version) == (saved.id, 1)
        assert found.preset == done.preset and done.preset is not None
        assert found.prompt_sent == done.prompt_sent and '"HOLD FAST"' in found.prompt_sent
    assert done.width > done.height  # 16:9
    assert balance(session, ada) == 20
    told = only_email(session, "generation_batch_done", to=ada.email)
    assert (told.context["run_id"], told.context["title"]) == (started.id, "Lighthouse")
    assert (told.context["images_done"], told.context["images_failed"]) == (2, 0)
    assert told.subject == "Your generation is done: 2 images of Lighthouse"


def test_a_chosen_version_is_the_one_generated_and_linked(
    session: Session, ada: User, saved: Prompt
) -> None:
    assert saved.id is not None
    changed = prompt_data("A windmill in fog", color_palette=[{"hex": "#cccccc"}])
    add_version(session, prompt_id=saved.id, author_id=ada.id, data=changed, message="v2")
    first = runs.start_generation(
        session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id, version=1
    )
    latest = runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id)
    run_the_queue()
    assert "lighthouse" in first.prompt_sent.lower() and "windmill" in latest.prompt_sent.lower()
    assert first.prompt_version_id != latest.prompt_version_id


def test_paid_images_are_reserved_before_the_call_and_charged_when_they_land(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    price = runs.quote(session, model=SCHNELL, n=3)
    assert price.total == 3 * price.credits_per_image and price.credits_per_image > 0

    started = runs.start_generation(
        session, user=ada, model=SCHNELL, prompt_id=saved.id, n=3, seed=5
    )
    assert together.requests == []  # reserved, queued, nothing sent yet
    assert balance(session, ada) == 20 - price.total

    run_the_queue()

    done = runs.get_generation(session, user=ada, generation_id=started.id)
    assert done.status == "done" and done.credits_charged == price.total
    assert balance(session, ada) == 20 - price.total
    posts = [r for r in together.requests if r.method == "POST"]
    assert [(p.body["seed"], p.body["n"]) for p in posts] == [(5, 1), (6, 1), (7, 1)]
    for image in done.images:
        assert image.request_id and image.request_id.startswith("tg-")
        assert image.duration_ms is not None and image.cost_credits == price.credits_per_image
        found = metadata.read(file_of(session, image.asset_id))
        assert found is not None and (found.provider, found.request_id) == (
            "together",
            image.request_id,
        )


def test_a_provider_failure_refunds_that_image(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    together.script(error(402, "Credit limit exceeded"))
    started = runs.start_generation(session, user=ada, model=SCHNELL, prompt_id=saved.id, n=2)
    run_the_queue()
    failed = runs.get_generation(session, user=ada, generation_id=started.id)
    assert failed.status == "failed" and failed.credits_charged == 0
    assert all(i.status == "failed" and i.asset_id is None for i in failed.images)
    assert failed.error and "Together" in failed.error and "Traceback" not in failed.error
    assert balance(session, ada) == 20


def test_cancel_refunds_what_did_not_start(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    per_image = runs.quote(session, model=SCHNELL, n=1).credits_per_image
    started = runs.start_generation(session, user=ada, model=SCHNELL, prompt_id=saved.id, n=4)
    generation = session.get(Generation, started.id)
    assert generation is not None
    # A worker has taken the run and is making the first image when the person cancels.
    assert claim(session, generation_id=started.id, worker_id="elsewhere:1:x")
    runs_images = runs.get_generation(session, user=ada, generation_id=started.id).images
    assert runs_images[0].status == "queued"
    first = _image(session, started.id, 0)
    assert first is not None and _mark_running(session, first, "elsewhere:1:x")

    cancelled = runs.cancel_generation(session, user=ada, generation_id=started.id)
    assert [i.status for i in cancelled.images] == ["running"] + ["cancelled"] * 3
    assert balance(session, ada) == 20 - per_image  # only the one being made is still held
    again = runs.cancel_generation(session, user=ada, generation_id=started.id)
    assert again.images == cancelled.images and balance(session, ada) == 20 - per_image
    assert together.requests == []


def test_cancel_before_a_worker_starts_refunds_everything(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    started = runs.start_generation(session, user=ada, model=SCHNELL, prompt_id=saved.id, n=2)
    cancelled = runs.cancel_generation(session, user=ada, generation_id=started.id)
    assert cancelled.status == "cancelled" and balance(session, ada) == 20
    run_the_queue()  # the task finds nothing to do
    assert together.requests == []
    assert runs.get_generation(session, user=ada, generation_id=started.id).status == "cancelled"


def test_a_killed_workers_run_is_picked_up_again_without_double_charge(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    per_image = runs.quote(session, model=SCHNELL, n=1).credits_per_image
    started = runs.start_generation(session, user=ada, model=SCHNELL, prompt_id=saved.id, n=2)
    assert get_huey().dequeue() is not None  # a worker took it off the queue,
    dead = "gone-host:1:dead"
    assert claim(session, generation_id=started.id, worker_id=dead)
    _run_image(started.id, 0, dead)  # made and charged the first image,
    second = _image(session, started.id, 1)
    assert second is not None and _mark_running(session, second, dead)  # started the second...
    generation = session.get(Generation, started.id)  # ...and was killed: no more heartbeats.
    assert generation is not None
    generation.heartbeat_at = utcnow() - timedelta(hours=1)
    session.add(generation)
    session.commit()
    assert balance(session, ada) == 20 - 2 * per_image  # one charged, one still held

    assert run_queue.recover_generations() == [started.id]
    assert run_queue.recover_generations() == []  # idempotent: queued once
    run_the_queue()

    done = runs.get_generation(session, user=ada, generation_id=started.id)
    assert done.status == "done" and done.credits_charged == 2 * per_image
    assert balance(session, ada) == 20 - 2 * per_image
    assert len([r for r in together.requests if r.method == "POST"]) == 2


def test_a_run_missing_from_the_queue_is_queued_again(
    session: Session, ada: User, saved: Prompt
) -> None:
    started = runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id)
    get_huey().dequeue()  # lost with a worker that took it
    assert run_queue.recover_generations() == [started.id]
    run_the_queue()
    assert runs.get_generation(session, user=ada, generation_id=started.id).status == "done"


def test_not_enough_credits_keeps_nothing(
    session: Session, saved: Prompt, together: FakeTogetherServer
) -> None:
    poor = make_user(session, "poor@example.com", balance=1)
    data = prompt_data("A red boat")
    per_image = runs.quote(session, model=SCHNELL, n=1).credits_per_image
    with pytest.raises(InsufficientCreditsError) as caught:
        runs.start_generation(session, user=poor, model=SCHNELL, prompt=data, n=4)
    assert caught.value.balance == 1 and caught.value.cost == 4 * per_image
    assert balance(session, poor) == 1
    assert session.exec(select(Generation)).all() == []
    assert queued_tasks() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n": 0}, "1 to 4 images"),
        ({"n": 9}, "1 to 4 images"),
        ({"n": True}, "1 to 4 images"),
        ({"n": "2"}, "1 to 4 images"),
        ({"aspect": "0:1"}, "more than zero"),
        ({"aspect": "banana"}, "not an aspect ratio"),
        ({"aspect": 16}, "aspect ratio"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**40}, "seed"),
        ({"steps": 0}, "Steps must be"),
        ({"preset": "no-such-style"}, "style preset"),
        ({"model": ""}, "model"),
        ({"model": "a b"}, "model id"),
    ],
)
def test_nasty_input_is_refused_and_nothing_is_kept(
    session: Session, ada: User, saved: Prompt, fields: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"model": OFFLINE_MODEL_ID, "prompt_id": saved.id} | fields
    with pytest.raises(InvalidInputError, match=message):
        runs.start_generation(session, user=ada, **args)  # type: ignore[arg-type]
    assert session.exec(select(Generation)).all() == []
    assert queued_tasks() == [] and balance(session, ada) == 20


def test_unknown_model_and_missing_key_are_refused(
    session: Session, ada: User, saved: Prompt
) -> None:
    with pytest.raises(UnknownModelError, match="Unknown model"):
        runs.start_generation(session, user=ada, model="vendor/not-a-model", prompt_id=saved.id)
    with pytest.raises(MissingKeyError, match="TOGETHER_API_KEY"):
        runs.start_generation(session, user=ada, model=SCHNELL, prompt_id=saved.id)
    assert queued_tasks() == [] and balance(session, ada) == 20


def test_someone_elses_deleted_or_missing_prompt_is_not_found(
    session: Session, ada: User, saved: Prompt
) -> None:
    eve = make_user(session, "eve@example.com", balance=20)
    with pytest.raises(NotFoundError):
        runs.start_generation(session, user=eve, model=OFFLINE_MODEL_ID, prompt_id=saved.id)
    with pytest.raises(NotFoundError):
        runs.start_generation(
            session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id, version=9
        )
    with pytest.raises(NotFoundError):
        runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=10_000)
    saved.deleted_at = utcnow()
    session.add(saved)
    session.commit()
    with pytest.raises(NotFoundError, match="trash"):
        runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id)
    assert queued_tasks() == []


def test_only_the_owner_sees_or_cancels_a_generation(
    session: Session, ada: User, saved: Prompt
) -> None:
    eve = make_user(session, "eve@example.com")
    started = runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt_id=saved.id)
    with pytest.raises(NotFoundError):
        runs.get_generation(session, user=eve, generation_id=started.id)
    with pytest.raises(NotFoundError):
        runs.cancel_generation(session, user=eve, generation_id=started.id)


def test_a_json_prompt_that_breaks_the_schema_is_refused(session: Session, ada: User) -> None:
    with pytest.raises(InvalidInputError):
        runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt={"scene": 5})
    with pytest.raises(InvalidInputError):
        runs.start_generation(session, user=ada, model=OFFLINE_MODEL_ID, prompt="just text")

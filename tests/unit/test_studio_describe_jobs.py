"""The studio's "Describe as JSON prompts" operation: each image of a job becomes a gallery
prompt tagged with the job, priced and charged per image, and safe across a dead worker."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys

import pytest
from PIL import Image
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services.analyzer.providers import reset_registry
from app.services.analyzer.providers.local import LOCAL_MODEL_ID
from app.services.analyzer.providers.setup import ensure_models
from app.services.billing import credits, pricing
from app.services.core.errors import InvalidInputError, UserFacingError
from app.services.core.models import (
    Asset,
    Conversation,
    Job,
    JobItem,
    Prompt,
    PromptVersion,
    User,
)
from app.services.core.queue import get_huey
from app.services.core.storage import get_storage
from app.services.library.gallery import GalleryQuery, list_prompts
from app.services.library.prompts import validate_prompt
from app.services.studio import jobs
from app.services.studio.jobs import runner
from app.services.studio.jobs.describe_credits import describe_key
from app.services.studio.jobs.describe_step import DescribeJob, describe_image
from app.services.studio.jobs.lease import claim
from app.settings import reset_settings
from tests.utils.fakes.openai_server import FakeOpenAIServer, error_reply, ok
from tests.utils.images import truncated_jpeg
from tests.utils.job_helpers import make_user, photo, run_queue, spec, uploads

DESCRIBE = {"describe": {"model": LOCAL_MODEL_ID}}
COLORS = [(200, 80, 40), (30, 90, 200), (40, 160, 60), (230, 220, 50)]


@pytest.fixture
def ada(session: Session) -> User:
    ensure_models()
    return make_user(session, "ada@example.com", plan="pro", balance=100)


def _admin(session: Session) -> User:
    found = session.exec(select(User).where(User.email == "boss@example.com")).first()
    return found or make_user(session, "boss@example.com", role="admin")


def _price(session: Session, credits_per_image: int) -> None:
    pricing.set_price(
        session,
        actor=_admin(session),
        key=f"{pricing.MODEL_PREFIX}{LOCAL_MODEL_ID}",
        credits=credits_per_image,
    )
    session.commit()


def _photos(count: int) -> list[tuple[str, bytes]]:
    return [(f"p{i}.jpg", photo(color=COLORS[i])) for i in range(count)]


def _create(session: Session, user: User, files: list[tuple[str, bytes]], raw: dict) -> int:
    return jobs.create_job(
        session, user=user, spec=spec(raw), uploads=uploads(*files), mode="now"
    ).id


def _items(session: Session, job_id: int) -> list[JobItem]:
    session.expire_all()
    return list(
        session.exec(
            select(JobItem).where(JobItem.job_id == job_id).order_by(col(JobItem.position))
        )
    )


def _tagged(session: Session, user: User, job_id: int) -> list[int]:
    page = list_prompts(
        session,
        storage=get_storage(),
        viewer=user,
        query=GalleryQuery(tags=(f"studio-job-{job_id}",), owner="me"),
    )
    return sorted(card.id for card in page.items)


def _prompt_ids(item: JobItem) -> list[int]:
    return [out["prompt_id"] for out in item.outputs if out.get("prompt_id")]


def _balance(session: Session, user: User) -> int:
    assert user.id is not None
    return credits.balance(session, user_id=user.id)


def test_each_image_becomes_a_gallery_prompt_tagged_with_the_job(
    session: Session, ada: User
) -> None:
    job_id = _create(session, ada, _photos(2), DESCRIBE)
    reset_registry()  # a worker process starts with no models registered
    run_queue()
    view = jobs.get_job(session, user=ada, job_id=job_id)
    assert view.status == "done" and view.done == 2 and view.steps[-1] == "describe"
    items = _items(session, job_id)
    saved = [pid for item in items for pid in _prompt_ids(item)]
    assert len(saved) == 2
    assert _tagged(session, ada, job_id) == sorted(saved)
    for item, prompt_id in zip(items, saved, strict=True):
        prompt = session.get(Prompt, prompt_id)
        assert prompt is not None and prompt.owner_id == ada.id and prompt.title == item.name
        assert prompt.model == LOCAL_MODEL_ID and prompt.asset_id is not None
        version = session.exec(
            select(PromptVersion).where(PromptVersion.prompt_id == prompt_id)
        ).one()
        assert validate_prompt(version.data) == []
        # The same record the analyzer chat makes: the prompt's page can replay it.
        conversation = session.exec(
            select(Conversation).where(Conversation.prompt_id == prompt_id)
        ).one()
        assert conversation.user_id == ada.id and conversation.asset_id == prompt.asset_id
        # The JSON prompt is also a file of the job (in the zip), linked to the prompt.
        [entry] = [o for o in item.outputs if o.get("prompt_id")]
        assert entry["name"] == f"p{item.position}.prompt.json"
        assert get_storage().read_bytes(entry["key"]).startswith(b"{")
    outputs = [o for i in view.items for o in i.outputs]
    assert sorted(o.prompt_id for o in outputs if o.prompt_id) == sorted(saved)
    assert _balance(session, ada) == 100  # the offline analyzer is free


def test_the_processed_image_is_described_when_the_job_makes_one(
    session: Session, ada: User
) -> None:
    raw = {"crop": {"aspect": "1:1"}, "convert": {"format": "png"}, **DESCRIBE}
    job_id = _create(session, ada, [("wide.jpg", photo((160, 90)))], raw)
    run_queue()
    [item] = _items(session, job_id)
    assert item.status == "done", item.error
    [prompt_id] = _prompt_ids(item)
    prompt = session.get(Prompt, prompt_id)
    assert prompt is not None
    asset = session.get(Asset, prompt.asset_id)
    assert asset is not None and asset.mime_type == "image/png"
    with Image.open(io.BytesIO(get_storage().read_bytes(asset.storage_key))) as image:
        assert image.size == (90, 90)  # the square crop, not the 160x90 upload


def test_the_price_per_image_is_the_analyzers_and_shows_in_the_preview(
    session: Session, ada: User
) -> None:
    _price(session, 3)
    preview = jobs.estimate_cost(session, spec=spec({"ocr": True, **DESCRIBE}), count=4)
    assert preview.describe_per_image == 3
    assert dict(preview.lines)["Describe as JSON prompts (Offline analyzer)"] == 3
    ocr = preview.per_image
    assert preview.now_total == ocr * 4 + 12
    assert preview.batch_total == (ocr * 4 + 1) // 2 + 12  # describing is not halved
    assert not preview.free


@pytest.mark.parametrize(
    ("model", "message"),
    [("nobody/nothing", "nobody/nothing"), ("openai/gpt-4o-mini", "OPENROUTER_API_KEY")],
)
def test_a_model_that_cannot_run_is_refused_before_anything_is_stored(
    session: Session, ada: User, model: str, message: str
) -> None:
    with pytest.raises(UserFacingError, match=message):
        _create(session, ada, _photos(1), {"describe": {"model": model}})
    assert session.exec(select(Job)).all() == []


def test_an_empty_model_name_is_refused_by_the_spec() -> None:
    with pytest.raises(InvalidInputError, match="describe.model"):
        spec({"describe": {"model": ""}})


def test_images_the_analyzer_cannot_read_fail_alone_and_cost_nothing(
    session: Session, ada: User
) -> None:
    _price(session, 2)
    tiff = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 20, 30)).save(tiff, "TIFF")
    files = [("broken.jpg", truncated_jpeg()), ("scan.tiff", tiff.getvalue()), *_photos(1)]
    job_id = _create(session, ada, files, DESCRIBE)
    run_queue()
    broken, scan, good = _items(session, job_id)
    assert broken.status == "failed" and broken.error and "truncated" in broken.error.lower()
    assert scan.status == "failed" and scan.error
    assert scan.error.startswith("Describe as JSON prompts: ")
    assert good.status == "done" and len(_prompt_ids(good)) == 1
    assert _tagged(session, ada, job_id) == _prompt_ids(good)
    assert _balance(session, ada) == 98  # only the described image is charged
    view = jobs.get_job(session, user=ada, job_id=job_id)
    assert view.status == "done" and view.credits_charged == 2


def test_running_out_of_credits_half_way_refuses_the_rest_clearly(
    session: Session, ada: User
) -> None:
    _price(session, 3)
    assert ada.id is not None
    credits.revoke(
        session,
        actor=_admin(session),
        user_id=ada.id,
        amount=93,
        reason="test",
        idempotency_key="t1",
    )
    assert _balance(session, ada) == 7
    job_id = _create(session, ada, _photos(4), DESCRIBE)
    run_queue()
    items = _items(session, job_id)
    # Images finish in any order: whichever two came first were described.
    assert sorted(i.status for i in items) == ["done", "done", "failed", "failed"]
    for item in (i for i in items if i.status == "failed"):
        assert item.error is not None and "out of credits" in item.error
        assert "balance is 1" in item.error and _prompt_ids(item) == []
    assert len(_tagged(session, ada, job_id)) == 2
    assert _balance(session, ada) == 1
    assert jobs.get_job(session, user=ada, job_id=job_id).credits_charged == 6


def test_not_enough_credits_for_one_image_refuses_the_job(session: Session, ada: User) -> None:
    _price(session, 200)
    with pytest.raises(UserFacingError, match="costs 200"):
        _create(session, ada, _photos(1), DESCRIBE)
    assert session.exec(select(Job)).all() == []


def _dead_worker_id() -> str:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"{socket.gethostname()[:60]}:{child.stdout.strip()}:dead"


def test_a_worker_killed_mid_job_resumes_without_saving_or_charging_twice(
    session: Session, ada: User
) -> None:
    _price(session, 2)
    job_id = _create(session, ada, _photos(3), DESCRIBE)
    get_huey().flush()  # the dead worker had taken the task off the queue
    dead = _dead_worker_id()
    assert claim(session, job_id=job_id, worker_id=dead)
    job = session.get(Job, job_id)
    assert job is not None
    describe = DescribeJob.of(job)
    assert describe is not None and describe.price == 2
    first, second, _third = _items(session, job_id)
    storage = get_storage()

    def step(item: JobItem):  # what the dead worker did for an image, with its own code
        outcome = describe_image(
            describe,
            position=item.position,
            index=0,
            name=item.name,
            input_key=item.input_key,
            processed=None,
            storage=storage,
        )
        assert not isinstance(outcome, UserFacingError)
        return outcome

    # Image 1: described and saved, killed before its credits were committed.
    described = step(first)
    assert first.id is not None
    runner._save_item(
        job_id,
        worker=dead,
        item_id=first.id,
        values={"status": "done", "outputs": [], "error": None},
        also=lambda s: {"outputs": [described.save(s, describe)]},
    )
    # Image 2: credits reserved and analysed, killed before the prompt was saved.
    step(second)
    session.exec(update(JobItem).where(col(JobItem.id) == second.id).values(status="running"))
    session.commit()
    assert _balance(session, ada) == 96  # two reservations held
    [saved_before] = _prompt_ids(_items(session, job_id)[0])

    # Its process is gone from this host: recovery hands the job to a new worker.
    assert jobs.recover_jobs() == [job_id]
    run_queue()

    items = _items(session, job_id)
    assert [i.status for i in items] == ["done", "done", "done"]
    assert _prompt_ids(items[0]) == [saved_before]  # not described again
    tagged = _tagged(session, ada, job_id)
    assert len(tagged) == 3 and sorted(pid for i in items for pid in _prompt_ids(i)) == tagged
    assert _balance(session, ada) == 94  # 3 images x 2 credits, once each
    for position in range(3):
        reservation = credits.get_reservation(session, key=describe_key(describe.token, position))
        assert reservation.status == credits.ReservationStatus.committed
        assert reservation.charged == 2
    view = jobs.get_job(session, user=ada, job_id=job_id)
    assert view.status == "done" and view.credits_charged == 6


def test_an_openrouter_vision_model_describes_and_a_refused_call_is_refunded(
    session: Session, ada: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key")
        monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
        reset_settings()
        reset_registry()
        ensure_models()  # the models see the key, as the app's would at start-up
        raw = {"describe": {"model": "openai/gpt-4o-mini"}}
        price = jobs.estimate_cost(session, spec=spec(raw), count=1).describe_per_image
        assert price > 0
        server.script(ok(), error_reply(401, "User not found"))
        job_id = _create(session, ada, _photos(2), raw)
        run_queue()
        calls = [r for r in server.requests if r.method == "POST"]
    assert len(calls) == 2
    assert all("data:image/" in json.dumps(call.body) for call in calls)  # the image was sent
    items = _items(session, job_id)
    assert sorted(i.status for i in items) == ["done", "failed"]
    [refused] = [i for i in items if i.status == "failed"]
    assert refused.error is not None and refused.error.startswith("Describe as JSON prompts: ")
    [described] = [i for i in items if i.status == "done"]
    [prompt_id] = _prompt_ids(described)
    prompt = session.get(Prompt, prompt_id)
    assert prompt is not None and prompt.model == "openai/gpt-4o-mini"
    assert _balance(session, ada) == 100 - price  # the refused call was refunded
    assert jobs.get_job(session, user=ada, job_id=job_id).credits_charged == price

"""LoRA training end to end: Fal's queue on a loopback fake that fetches our presigned zip and
calls back with a signed webhook; the REST API under uvicorn on loopback receives it.

Real SQLite, the real huey queue of the test's DATA_DIR, the real credit ledger.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from sqlmodel import Session, select

from app.services.billing import credits
from app.services.core.errors import (
    ConflictError,
    ImageTooLargeError,
    InsufficientCreditsError,
    InvalidImageError,
    InvalidInputError,
    MissingKeyError,
    NotFoundError,
)
from app.services.core.models import Generation, LoraTraining, User
from app.services.core.storage import get_storage
from app.services.generation import lora_training, lora_webhook, runs
from app.services.generation.lora_queue import lora_step, reconcile_trainings
from app.services.generation.lora_records import load
from app.settings import reset_settings
from tests.utils.fakes.fal_queue_server import error
from tests.utils.fakes.fal_training_server import KEY, TRAINING, FakeFalTrainingServer, sign
from tests.utils.job_helpers import make_user, run_queue, run_retries
from tests.utils.live_api import free_port, serving_api
from tests.utils.outbox import only_email
from tests.utils.prompt_factories import prompt_data

PRICE = 300


def photo(index: int, size: tuple[int, int] = (80, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (index * 40 % 256, 90, 255 - index * 20 % 256)).save(buf, "JPEG")
    return buf.getvalue()


def photos(count: int) -> list[tuple[str, bytes]]:
    return [(f"me-{i}.jpg", photo(i)) for i in range(count)]


def zipped(*members: tuple[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFalTrainingServer]:
    with FakeFalTrainingServer() as server:
        server.step_seconds = 0.05
        monkeypatch.setenv("FAL_QUEUE_URL", server.url)
        monkeypatch.setenv("FAL_KEY", KEY)
        monkeypatch.setenv("FAL_JWKS_URL", server.jwks_url)
        monkeypatch.setenv("FAL_POLL_INTERVAL_SECONDS", "0")
        # The step's next poll waits in the queue; tests run it (or reconciliation) themselves.
        monkeypatch.setenv("LORA_POLL_INTERVAL_SECONDS", "3600")
        reset_settings()
        yield server


@pytest.fixture
def api(fal: FakeFalTrainingServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Our API on loopback, as the public base URL Fal calls back (and fetches the zip from)."""
    port = free_port()
    monkeypatch.setenv("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    with serving_api(port) as url:
        yield url


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=1000)


def balance(session: Session, user: User) -> int:
    assert user.id is not None
    return credits.balance(session, user_id=user.id)


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def status_of(session: Session, training_id: int) -> str:
    # End the session's transaction first: on SQLite (WAL) a transaction reads one snapshot,
    # so a long-lived test session would keep seeing the row as it was before the worker ran.
    session.commit()
    return load(session, training_id).status


def start(session: Session, user: User, **kwargs: object) -> int:
    args: dict[str, object] = {"files": photos(4), "trigger_word": "TOK", "steps": 1000}
    args.update(kwargs)
    view = lora_training.start_training(session, user=user, **args)  # type: ignore[arg-type]
    return view.id


def submitted(session: Session, fal: FakeFalTrainingServer, training_id: int) -> str:
    """Run the training's first step (submit to Fal) as the worker does; Fal's request id."""
    lora_step(training_id)
    training = load(session, training_id)
    assert training.fal_request_id is not None, training.error
    return training.fal_request_id


def test_a_training_runs_end_to_end_and_the_webhook_finishes_it(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    training_id = start(session, ada, kind="style", name="Watercolour")
    started = lora_training.get_lora(session, user=ada, lora_id=training_id)
    assert (started.status, started.kind, started.image_count) == ("queued", "style", 4)
    assert balance(session, ada) == 1000 - PRICE  # reserved before Fal is asked anything
    assert len(started.sample_asset_ids) == 4

    request_id = submitted(session, fal, training_id)

    sent = next(r for r in fal.requests if r.method == "POST" and TRAINING in r.path)
    assert f"fal_webhook={api.replace(':', '%3A').replace('/', '%2F')}" in sent.path
    assert sent.body["trigger_word"] == "TOK" and sent.body["steps"] == 1000
    assert sent.body["is_style"] is True
    assert sent.body["images_data_url"].startswith(f"{api}/api/files/loras/")
    # Fal fetched the zip from our storage through the presigned URL: the four photos.
    assert fal.zips[request_id] == [f"photo-0{i}.jpg" for i in range(1, 5)]

    wait_until(lambda: bool(fal.webhook_replies), "the webhook")
    assert fal.webhook_replies == [200]
    done = lora_training.get_lora(session, user=ada, lora_id=training_id)
    assert done.status == "done"
    assert done.lora_url == f"{fal.url}/files/{request_id}/pytorch_lora_weights.safetensors"
    assert done.config_url == f"{fal.url}/files/{request_id}/config.json"
    assert done.credits_charged == PRICE and balance(session, ada) == 1000 - PRICE
    zip_key = load(session, training_id).zip_key
    assert zip_key is not None and not get_storage().exists(zip_key)  # photos not kept
    # The poll the step queued finds it finished: nothing changes, nothing is charged twice.
    assert {t.name for t in run_queue()} == {"lora_step"}
    assert status_of(session, training_id) == "done" and balance(session, ada) == 1000 - PRICE
    told = only_email(session, "lora_finished", to=ada.email)  # the webhook's, once
    assert (told.context["lora_id"], told.context["status"]) == (training_id, "done")
    assert told.subject == "Your LoRA Watercolour is trained"


def test_a_lost_webhook_is_made_up_for_by_polling(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    fal.lose_webhooks = True
    training_id = start(session, ada)
    request_id = submitted(session, fal, training_id)
    wait_until(lambda: fal.trainings[request_id].completed, "Fal to finish")
    assert status_of(session, training_id) == "uploading"  # no callback came

    counts = reconcile_trainings()

    assert counts["polled"] == 1
    assert status_of(session, training_id) == "done"
    assert fal.webhook_replies == []
    assert balance(session, ada) == 1000 - PRICE
    assert reconcile_trainings() == {"timed_out": 0, "polled": 0, "requeued": 0, "settled": 0}


def test_the_queue_task_polls_until_done_without_a_webhook(
    session: Session, ada: User, fal: FakeFalTrainingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No public base URL: Fal is not asked for a webhook; the zip's URL is on API_URL.
    port = free_port()
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    training_id = start(session, ada)
    with serving_api(port):
        request_id = submitted(session, fal, training_id)
    assert len(fal.zips[request_id]) == 4
    sent = next(r for r in fal.requests if r.method == "POST" and TRAINING in r.path)
    assert "fal_webhook" not in sent.path
    # Each poll that finds it unfinished schedules the next one (an hour later here); the test
    # runs the scheduled step at once, as often as it takes Fal to finish, like a worker would.
    ran = run_queue()

    def polled_to_the_end() -> bool:
        # huey keeps a step scheduled for later in the queue until a worker moves it to the
        # schedule: run_queue does that, run_retries then runs it without waiting.
        ran.extend(run_queue())
        ran.extend(run_retries())
        return status_of(session, training_id) == "done"

    wait_until(polled_to_the_end, "polling to finish the training")
    assert len(ran) > 1 and {t.name for t in ran} == {"lora_step"}
    assert balance(session, ada) == 1000 - PRICE


@pytest.mark.parametrize("forgery", ["other key", "old", "unsigned", "tampered"])
def test_a_forged_webhook_is_refused_and_changes_nothing(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str, forgery: str
) -> None:
    fal.finish = False
    training_id = start(session, ada)
    request_id = submitted(session, fal, training_id)
    event = {"request_id": request_id, "status": "OK", "payload": {
        "diffusers_lora_file": {"url": "https://evil.example/lora.safetensors"}}}  # fmt: skip
    body = json.dumps(event).encode()
    now = int(time.time())
    if forgery == "other key":
        headers = sign(Ed25519PrivateKey.generate(), body, request_id=request_id, timestamp=now)
    elif forgery == "old":
        headers = sign(fal.signing_key, body, request_id=request_id, timestamp=now - 3600)
    elif forgery == "unsigned":
        headers = {"Content-Type": "application/json"}
    else:
        headers = sign(fal.signing_key, body, request_id=request_id, timestamp=now)
        body = body.replace(b"evil", b"evil2")

    answer = httpx.post(f"{api}/api/webhooks/fal", content=body, headers=headers)

    assert answer.status_code == 401, answer.text
    assert "detail" in answer.json()
    training = load(session, training_id)
    assert training.status in ("uploading", "training") and training.lora_url is None
    assert balance(session, ada) == 1000 - PRICE


def test_a_replayed_webhook_changes_nothing(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    training_id = start(session, ada)
    request_id = submitted(session, fal, training_id)
    wait_until(lambda: bool(fal.webhook_replies), "the webhook")
    body = json.dumps({"request_id": request_id, "status": "ERROR", "error": "late"}).encode()
    headers = sign(fal.signing_key, body, request_id=request_id, timestamp=int(time.time()))
    answer = httpx.post(f"{api}/api/webhooks/fal", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"received": True, "applied": False}
    assert status_of(session, training_id) == "done" and balance(session, ada) == 1000 - PRICE


def test_a_training_that_never_finishes_fails_at_the_time_limit_and_is_refunded(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    fal.finish = False
    training_id = start(session, ada)
    request_id = submitted(session, fal, training_id)
    reconcile_trainings()
    assert status_of(session, training_id) in ("uploading", "training")  # not yet: it polls
    created = load(session, training_id).created_at

    counts = reconcile_trainings(now=created + timedelta(hours=2, minutes=1))

    assert counts["timed_out"] == 1
    failed = lora_training.get_lora(session, user=ada, lora_id=training_id)
    assert failed.status == "failed" and failed.error is not None
    assert "did not finish within 2 hours" in failed.error and "refunded" in failed.error
    assert balance(session, ada) == 1000
    assert fal.trainings[request_id].cancelled  # stopped at Fal too, so nobody pays for it


def test_cancel_stops_it_at_fal_and_refunds(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    fal.finish = False
    training_id = start(session, ada)
    request_id = submitted(session, fal, training_id)

    view = lora_training.delete_lora(session, user=ada, lora_id=training_id)  # DELETE = cancel

    assert view.status == "cancelled" and balance(session, ada) == 1000
    assert fal.trainings[request_id].cancelled
    with pytest.raises(ConflictError):
        lora_training.cancel_training(session, user=ada, lora_id=training_id)


def test_cancel_before_it_reaches_fal_never_submits(
    session: Session, ada: User, fal: FakeFalTrainingServer
) -> None:
    training_id = start(session, ada)
    assert lora_training.cancel_training(session, user=ada, lora_id=training_id).status == (
        "cancelled"
    )
    run_queue()
    assert not [r for r in fal.requests if r.method == "POST"]
    assert balance(session, ada) == 1000


def test_a_fal_error_at_submit_fails_it_with_a_clear_message_and_refunds(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    fal.script(error(403, "User is locked. Reason: Exhausted balance."))
    training_id = start(session, ada)
    run_queue()
    failed = lora_training.get_lora(session, user=ada, lora_id=training_id)
    assert failed.status == "failed" and failed.error is not None
    assert "Fal.ai" in failed.error and "refunded" in failed.error
    assert "Traceback" not in failed.error
    assert balance(session, ada) == 1000


def test_fal_failing_the_training_refunds_it(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    fal.fail_with = "Not enough faces found in the images"
    training_id = start(session, ada)
    submitted(session, fal, training_id)
    wait_until(lambda: bool(fal.webhook_replies), "the error webhook")
    assert fal.webhook_replies == [200]
    failed = load(session, training_id)
    assert failed.error is not None and "Not enough faces" in failed.error
    assert balance(session, ada) == 1000
    told = only_email(session, "lora_finished", to=ada.email)
    assert told.context["status"] == "failed" and told.context["error"] == failed.error


def test_a_done_lora_is_deleted_from_lists_but_its_row_stays(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    training_id = start(session, ada)
    submitted(session, fal, training_id)
    wait_until(lambda: bool(fal.webhook_replies), "the webhook")
    assert [v.id for v in lora_training.list_loras(session, user=ada, done_only=True)] == [
        training_id
    ]
    lora_training.delete_lora(session, user=ada, lora_id=training_id)
    assert lora_training.list_loras(session, user=ada) == []
    with pytest.raises(NotFoundError):
        lora_training.get_lora(session, user=ada, lora_id=training_id)
    assert session.get(LoraTraining, training_id) is not None
    assert balance(session, ada) == 1000 - PRICE  # it was trained: the charge stands


def test_a_done_lora_generates_on_flux_lora_for_its_owner_only(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    training_id = start(session, ada)
    submitted(session, fal, training_id)
    wait_until(lambda: bool(fal.webhook_replies), "the webhook")
    lora_url = load(session, training_id).lora_url
    prompt = prompt_data("TOK portrait by a window")

    chosen = [{"id": training_id, "scale": 0.8}]
    run = runs.start_generation(session, user=ada, model="black-forest-labs/FLUX.1-schnell",
                                prompt=prompt, loras=chosen)  # fmt: skip
    assert run.model == "fal-ai/flux-lora"
    row = session.get(Generation, run.id)
    assert row is not None and row.loras == [{"path": lora_url, "scale": 0.8}]
    run_queue()
    sent = [r.body for r in fal.requests if r.method == "POST" and "flux-lora" in r.path
            and TRAINING not in r.path]  # fmt: skip
    assert sent and sent[0]["loras"] == [{"path": lora_url, "scale": 0.8}]
    assert runs.get_generation(session, user=ada, generation_id=run.id).status == "done"

    bob = make_user(session, "bob@example.com", balance=100)
    with pytest.raises(NotFoundError):
        runs.start_generation(session, user=bob, model="fal-ai/flux-lora", prompt=prompt,
                              loras=[{"id": training_id, "scale": 1}])  # fmt: skip
    for bad in ([{"id": training_id, "scale": 3}], [{"id": training_id, "scale": "x"}], "TOK"):
        with pytest.raises(InvalidInputError):
            runs.start_generation(session, user=ada, model="fal-ai/flux-lora", prompt=prompt,
                                  loras=bad)  # fmt: skip
    assert session.exec(select(Generation)).all() == [row]  # nothing kept from the refusals


# -- bad uploads and settings: refused before anything is kept or charged -----------------------


def refused(session: Session, user: User, files: list[tuple[str, bytes]], **kwargs: object) -> str:
    before = balance(session, user)
    with pytest.raises(InvalidInputError) as caught:
        start(session, user, files=files, **kwargs)
    assert balance(session, user) == before
    assert session.exec(select(LoraTraining)).all() == []
    return caught.value.message


def test_three_photos_are_too_few_and_fifty_one_too_many(
    session: Session, ada: User, fal: FakeFalTrainingServer
) -> None:
    assert "at least 4 photos; there are 3" in refused(session, ada, photos(3))
    assert "at most 50 photos; there are 51" in refused(session, ada, photos(51))
    assert "at least 4" in refused(session, ada, [("few.zip", zipped(*photos(2)))])
    assert "Add 4 to 50 photos" in refused(session, ada, [])


def test_a_text_file_renamed_jpg_is_named_as_not_an_image(
    session: Session, ada: User, fal: FakeFalTrainingServer
) -> None:
    files = [*photos(4), ("holiday.jpg", b"<html><script>alert(1)</script></html>")]
    with pytest.raises(InvalidImageError) as caught:
        start(session, ada, files=files)
    assert caught.value.message.startswith("holiday.jpg: ")
    truncated = [*photos(3), ("cut.jpg", photo(9)[:300])]
    with pytest.raises(InvalidImageError, match="cut.jpg"):
        start(session, ada, files=truncated)
    assert balance(session, ada) == 1000


def test_a_zip_with_junk_names_the_junk(
    session: Session, ada: User, fal: FakeFalTrainingServer
) -> None:
    junk = zipped(*photos(4), ("notes.txt", b"remember the milk"))
    with pytest.raises(InvalidImageError, match="notes.txt"):
        start(session, ada, files=[("photos.zip", junk)])
    # What file managers add is not junk: a zip from macOS trains.
    mac = zipped(*photos(4), ("__MACOSX/._me-0.jpg", b"\x00\x05"), (".DS_Store", b"\x00"))
    assert start(session, ada, files=[("mac.zip", mac)]) > 0


def test_zip_bombs_are_refused_from_the_directory(
    session: Session, ada: User, fal: FakeFalTrainingServer
) -> None:
    huge = zipped(*photos(4), ("big.jpg", b"\0" * (25 * 1024 * 1024)),
                  compression=zipfile.ZIP_DEFLATED)  # fmt: skip
    assert len(huge) < 1024 * 1024
    with pytest.raises(ImageTooLargeError, match="big.jpg in the zip unpacks to"):
        start(session, ada, files=[("bomb.zip", huge)])
    squeezed = zipped(*photos(4), ("flat.jpg", b"\0" * (4 * 1024 * 1024)),
                      compression=zipfile.ZIP_DEFLATED)  # fmt: skip
    with pytest.raises(ImageTooLargeError, match="compressed"):
        start(session, ada, files=[("bomb.zip", squeezed)])
    assert session.exec(select(LoraTraining)).all() == []


def test_a_damaged_zip_and_a_zip_with_photos_are_told_apart(
    session: Session, ada: User, fal: FakeFalTrainingServer
) -> None:
    good = zipped(*photos(5))
    assert "damaged" in refused(session, ada, [("cut.zip", good[: len(good) // 2])])
    assert "not both" in refused(session, ada, [("a.zip", good), *photos(4)])
    training_id = start(session, ada, files=[("a.zip", good)])
    assert load(session, training_id).image_count == 5


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"trigger_word": ""}, "trigger word"),
        ({"trigger_word": "two words"}, "trigger word"),
        ({"trigger_word": "x" * 41}, "trigger word"),
        ({"steps": 50}, "Steps"),
        ({"steps": "1000"}, "Steps"),
        ({"steps": True}, "Steps"),
        ({"kind": "portrait"}, "subject"),
        ({"name": "n" * 121}, "name"),
    ],
)
def test_bad_settings_are_refused_with_what_to_fix(
    session: Session, ada: User, fal: FakeFalTrainingServer, settings: dict[str, object],
    words: str,
) -> None:  # fmt: skip
    assert words in refused(session, ada, photos(4), **settings)


def test_no_key_and_no_credits_keep_nothing(
    session: Session, fal: FakeFalTrainingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    poor = make_user(session, "poor@example.com", balance=PRICE - 1)
    with pytest.raises(InsufficientCreditsError):
        start(session, poor)
    monkeypatch.delenv("FAL_KEY")
    reset_settings()
    with pytest.raises(MissingKeyError, match="FAL_KEY"):
        start(session, poor)
    assert session.exec(select(LoraTraining)).all() == []
    assert list(get_storage().root.rglob("*.zip")) == []  # type: ignore[attr-defined]


def test_webhook_keys_are_cached_and_refetched_once_when_rotated(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    lora_webhook.forget_keys()
    training_id = start(session, ada)
    submitted(session, fal, training_id)
    wait_until(lambda: bool(fal.webhook_replies), "the webhook")
    fetches = [r for r in fal.requests if r.path == "/.well-known/jwks.json"]
    assert len(fetches) <= 1  # the fake's JWKS GETs aren't recorded; the cache is what counts


def test_cancelling_what_fal_already_finished_keeps_it_done_and_charged(
    session: Session, ada: User, fal: FakeFalTrainingServer, api: str
) -> None:
    fal.lose_webhooks = True
    training_id = start(session, ada)
    request_id = submitted(session, fal, training_id)
    wait_until(lambda: fal.trainings[request_id].completed, "Fal to finish")

    view = lora_training.cancel_training(session, user=ada, lora_id=training_id)

    assert view.status == "uploading"  # Fal answered ALREADY_COMPLETED: the next poll decides
    reconcile_trainings()
    assert status_of(session, training_id) == "done"
    assert balance(session, ada) == 1000 - PRICE

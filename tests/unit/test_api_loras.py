"""`/api/loras`: train from photos or a zip, list, follow (JSON and SSE), cancel, delete, price;
and every bad request's answer. Fal itself is reached only by the worker (test_lora_training)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import api_keys
from app.services.billing import credits
from app.services.core import rate_limits
from app.services.core.models import User
from app.services.generation.lora_fal import Outcome
from app.services.generation.lora_progress import apply_outcome
from app.settings import reset_settings
from tests.utils.fakes.fal_training_server import KEY
from tests.utils.job_helpers import make_user


def photo(index: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (index * 50 % 256, 20, 200)).save(buf, "PNG")
    return buf.getvalue()


def form(count: int = 4) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (f"p{i}.png", photo(i), "image/png")) for i in range(count)]


@pytest.fixture(autouse=True)
def _fal_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", KEY)
    reset_settings()
    rate_limits.reset_policies()
    rate_limits.reset_counters()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_api(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=1000)


@pytest.fixture
def key(session: Session, ada: User) -> dict[str, str]:
    new = api_keys.create_key(session, owner=ada, name="loras")
    session.commit()
    return {"Authorization": f"Bearer {new.key}"}


def test_train_list_follow_and_delete(
    client: TestClient, key: dict[str, str], session: Session, ada: User
) -> None:
    price = client.get("/api/loras/price", headers=key).json()
    assert price == {"credits": 300, "balance": 1000}

    answer = client.post("/api/loras", headers=key, files=form(),
                         data={"trigger_word": "TOK", "steps": "800", "kind": "style"})  # fmt: skip
    assert answer.status_code == 202, answer.text
    lora = answer.json()
    assert (lora["status"], lora["steps"], lora["kind"], lora["image_count"]) == (
        "queued", 800, "style", 4,
    )  # fmt: skip
    assert len(lora["sample_urls"]) == 4 and lora["credits"] == 300
    assert credits.balance(session, user_id=ada.id or 0) == 700

    assert [x["id"] for x in client.get("/api/loras", headers=key).json()] == [lora["id"]]
    assert client.get("/api/loras?done=true", headers=key).json() == []
    assert client.get(f"/api/loras/{lora['id']}", headers=key).json()["status"] == "queued"

    with client.stream("GET", f"/api/loras/{lora['id']}?stream=true", headers=key) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = []
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if len(events) == 1:  # the training finishes while the stream is open
                    apply_outcome(session, lora["id"], Outcome("done", lora_url="https://x/l"))
    assert [e["status"] for e in events] == ["queued", "done"]
    assert events[-1]["lora_url"] == "https://x/l"

    deleted = client.delete(f"/api/loras/{lora['id']}", headers=key)
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
    assert client.get("/api/loras", headers=key).json() == []
    assert client.get(f"/api/loras/{lora['id']}", headers=key).status_code == 404
    assert credits.balance(session, user_id=ada.id or 0) == 700  # trained: charged


def test_delete_while_queued_cancels_and_refunds(
    client: TestClient, key: dict[str, str], session: Session, ada: User
) -> None:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        for i in range(5):
            archive.writestr(f"me/{i}.png", photo(i))
    upload = [("photos", ("me.zip", zipped.getvalue(), "application/zip"))]
    answer = client.post("/api/loras", headers=key, data={"trigger_word": "ada_face"}, files=upload)
    assert answer.status_code == 202 and answer.json()["image_count"] == 5
    lora_id = answer.json()["id"]
    cancelled = client.delete(f"/api/loras/{lora_id}", headers=key).json()
    assert cancelled["status"] == "cancelled" and cancelled["credits_charged"] == 0
    assert credits.balance(session, user_id=ada.id or 0) == 1000
    again = client.delete(f"/api/loras/{lora_id}", headers=key)
    assert again.status_code == 200 and again.json()["status"] == "deleted"


@pytest.mark.parametrize(
    ("files", "data", "status", "words"),
    [
        (3, {"trigger_word": "TOK"}, 422, "at least 4 photos"),
        (51, {"trigger_word": "TOK"}, 422, "at most 50 photos"),
        (0, {"trigger_word": "TOK"}, 422, "Add 4 to 50 photos"),
        (4, {}, 422, "trigger word"),
        (4, {"trigger_word": "TOK", "steps": "lots"}, 422, "Steps"),
        (4, {"trigger_word": "TOK", "steps": "99999999999"}, 422, "Steps"),
        (4, {"trigger_word": "TOK", "kind": "both"}, 422, "subject"),
    ],
)
def test_bad_requests_get_clear_answers_and_cost_nothing(
    client: TestClient, key: dict[str, str], session: Session, ada: User,
    files: int, data: dict[str, str], status: int, words: str,
) -> None:  # fmt: skip
    answer = client.post("/api/loras", headers=key, files=form(files) or None, data=data)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    assert credits.balance(session, user_id=ada.id or 0) == 1000
    assert client.get("/api/loras", headers=key).json() == []


def test_a_non_image_is_415_and_named(client: TestClient, key: dict[str, str]) -> None:
    files = [*form(4), ("photos", ("cv.jpg", b"%PDF-1.7 not a photo", "image/jpeg"))]
    answer = client.post("/api/loras", headers=key, files=files, data={"trigger_word": "TOK"})
    assert answer.status_code == 415 and answer.json()["detail"].startswith("cv.jpg: ")


def test_others_and_strangers_get_nothing(
    client: TestClient, key: dict[str, str], session: Session
) -> None:
    lora_id = client.post("/api/loras", headers=key, files=form(),
                          data={"trigger_word": "TOK"}).json()["id"]  # fmt: skip
    bob = make_user(session, "bob@example.com")
    bob_key = {"Authorization": f"Bearer {api_keys.create_key(session, owner=bob, name='b').key}"}
    session.commit()
    assert client.get(f"/api/loras/{lora_id}", headers=bob_key).status_code == 404
    assert client.delete(f"/api/loras/{lora_id}", headers=bob_key).status_code == 404
    assert client.get("/api/loras", headers=bob_key).json() == []
    assert client.get("/api/loras").status_code == 401
    assert client.post("/api/loras", files=form(), data={"trigger_word": "T1"}).status_code == 401


def test_without_a_fal_key_it_says_what_to_set(
    client: TestClient, key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAL_KEY")
    reset_settings()
    answer = client.post("/api/loras", headers=key, files=form(), data={"trigger_word": "TOK"})
    assert answer.status_code == 503 and "FAL_KEY" in answer.json()["detail"]


def test_the_webhook_refuses_unsigned_deliveries(client: TestClient) -> None:
    answer = client.post("/api/webhooks/fal", json={"request_id": "x", "status": "OK"})
    assert answer.status_code == 401 and answer.json() == {"detail": "The webhook is not signed."}

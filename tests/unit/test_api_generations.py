"""`/api/generations`: start (202 + Location), follow (JSON and a real SSE stream), list, cancel;
every status it answers with, and the nasty requests.

Real SQLite, the real huey queue of the test's DATA_DIR run inline (as a worker would), and
Together's loopback fake for the paid model. The stream is read over real HTTP from the app
served by uvicorn on a loopback port.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.api.generations import progress_events
from app.services.accounts import api_keys, auth
from app.services.accounts.session_cookie import SESSION_COOKIE
from app.services.billing import credits
from app.services.core import rate_limits
from app.services.core.models import Generation, LoraTraining, Prompt, User
from app.services.generation import metadata
from app.services.generation.run_lease import claim, release
from app.services.library.writes import create_prompt
from app.settings import reset_settings
from tests.utils.fakes.together_server import KEY, FakeTogetherServer, serve
from tests.utils.job_helpers import PASSWORD, make_user, run_queue
from tests.utils.live_api import free_port, serving_api
from tests.utils.prompt_factories import prompt_data

OFFLINE = "jsoncraft/layout-preview"
SCHNELL = "black-forest-labs/FLUX.1-schnell"
LIGHTHOUSE = prompt_data(
    "A lighthouse on a cliff at dusk",
    color_palette=[{"hex": "#1b2a49"}, {"hex": "#e8a33d"}],
    text_render=[{"text": "HOLD FAST", "position": "bottom center"}],
)


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    rate_limits.reset_policies()
    rate_limits.reset_counters()


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=20)


def key_for(session: Session, user: User) -> dict[str, str]:
    new = api_keys.create_key(session, owner=user, name="generations")
    session.commit()
    return {"Authorization": f"Bearer {new.key}"}


@pytest.fixture
def key(session: Session, ada: User) -> dict[str, str]:
    return key_for(session, ada)


@pytest.fixture
def saved(session: Session, ada: User) -> Prompt:
    assert ada.id is not None
    prompt = create_prompt(session, owner_id=ada.id, title="Lighthouse", data=LIGHTHOUSE)
    session.commit()
    return prompt


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogetherServer]:
    for server in serve():
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", KEY)
        reset_settings()
        yield server


def balance(session: Session, user: User) -> int:
    assert user.id is not None
    return credits.balance(session, user_id=user.id)


# --- the happy paths --------------------------------------------------------------------------


def test_start_follow_and_download_with_an_api_key(
    client: TestClient, key: dict[str, str], saved: Prompt
) -> None:
    body = {"prompt_id": saved.id, "model": OFFLINE, "n": 2, "seed": 7, "aspect": "16:9",
            "preset": "film-noir"}  # fmt: skip
    started = client.post("/api/generations", headers=key, json=body)
    assert started.status_code == 202, started.text
    run = started.json()
    assert started.headers["location"] == f"/api/generations/{run['id']}"
    assert (run["status"], run["model"], run["prompt_id"]) == ("queued", OFFLINE, saved.id)
    assert [(i["status"], i["seed"], i["url"]) for i in run["images"]] == [
        ("queued", 7, None),
        ("queued", 8, None),
    ]
    assert run["width"] > run["height"] and run["preset"]

    run_queue()

    done = client.get(started.headers["location"], headers=key)
    assert done.status_code == 200
    view = done.json()
    assert view["status"] == "done" and view["finished_at"]
    for image in view["images"]:
        assert image["status"] == "done" and image["media_type"] == "image/png"
        assert image["duration_ms"] is not None and image["cost_credits"] == 0
        assert image["error"] is None and image["thumbnail_url"]
        file = client.get(image["url"])  # the signed storage URL serves the file itself
        assert file.status_code == 200
        found = metadata.read(file.content)
        assert found is not None and (found.model, found.seed) == (OFFLINE, image["seed"])
        assert found.prompt_id == saved.id and found.preset == view["preset"]


def test_a_json_prompt_and_the_session_cookie(
    client: TestClient, session: Session, ada: User
) -> None:
    signed = auth.authenticate(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    client.cookies.set(SESSION_COOKIE, signed.token)
    started = client.post("/api/generations", json={"prompt": LIGHTHOUSE, "model": OFFLINE})
    assert started.status_code == 202, started.text
    assert started.json()["prompt_id"] is None
    assert '"HOLD FAST"' in started.json()["prompt_sent"]


def test_paid_images_reserve_credits_and_cancel_refunds_them(
    client: TestClient, session: Session, ada: User, key: dict[str, str], saved: Prompt,
    together: FakeTogetherServer,
) -> None:  # fmt: skip
    body = {"prompt_id": saved.id, "model": "flux-schnell", "n": 3}
    started = client.post("/api/generations", headers=key, json=body)
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["model"] == SCHNELL and run["credits_per_image"] > 0
    assert balance(session, ada) == 20 - 3 * run["credits_per_image"]

    cancelled = client.delete(f"/api/generations/{run['id']}", headers=key)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert {i["status"] for i in cancelled.json()["images"]} == {"cancelled"}
    assert balance(session, ada) == 20
    again = client.delete(f"/api/generations/{run['id']}", headers=key)
    assert again.status_code == 200 and balance(session, ada) == 20  # harmless repeat
    run_queue()
    assert [r for r in together.requests if r.method == "POST"] == []  # nothing was sent


def test_a_finished_generation_cant_be_cancelled(
    client: TestClient, key: dict[str, str], saved: Prompt
) -> None:
    run = client.post("/api/generations", headers=key,
                      json={"prompt_id": saved.id, "model": OFFLINE}).json()  # fmt: skip
    run_queue()
    refused = client.delete(f"/api/generations/{run['id']}", headers=key)
    assert refused.status_code == 409
    assert "already finished" in refused.json()["detail"]


def test_listing_shows_only_mine_newest_first(
    client: TestClient, session: Session, key: dict[str, str], saved: Prompt
) -> None:
    bob = make_user(session, "bob@example.com")
    bob_key = key_for(session, bob)
    ids = [
        client.post("/api/generations", headers=key,
                    json={"prompt_id": saved.id, "model": OFFLINE}).json()["id"]
        for _ in range(3)
    ]  # fmt: skip
    client.post("/api/generations", headers=bob_key, json={"prompt": LIGHTHOUSE, "model": OFFLINE})
    listed = client.get("/api/generations", headers=key)
    assert listed.status_code == 200
    assert [g["id"] for g in listed.json()] == ids[::-1]
    assert [g["id"] for g in client.get("/api/generations?limit=2", headers=key).json()] == [
        ids[2],
        ids[1],
    ]
    assert client.get("/api/generations?limit=0", headers=key).status_code == 422
    assert client.get("/api/generations?limit=abc", headers=key).status_code == 422


# --- refusals ---------------------------------------------------------------------------------


def test_every_operation_needs_a_sign_in(client: TestClient) -> None:
    for method, path in [("POST", "/api/generations"), ("GET", "/api/generations"),
                         ("GET", "/api/generations/1"), ("DELETE", "/api/generations/1"),
                         ("GET", "/api/generations/1?stream=true")]:  # fmt: skip
        body = {"prompt": LIGHTHOUSE, "model": OFFLINE} if method == "POST" else None
        answer = client.request(method, path, json=body)
        assert answer.status_code == 401, (method, path)
        assert "Sign in" in answer.json()["detail"]
    forged = client.get("/api/generations", headers={"Authorization": "Bearer jc_forged"})
    assert forged.status_code == 401


def test_someone_elses_generation_is_not_found(
    client: TestClient, session: Session, key: dict[str, str], saved: Prompt
) -> None:
    run = client.post("/api/generations", headers=key,
                      json={"prompt_id": saved.id, "model": OFFLINE}).json()  # fmt: skip
    eve = key_for(session, make_user(session, "eve@example.com"))
    for method in ("GET", "DELETE"):
        answer = client.request(method, f"/api/generations/{run['id']}", headers=eve)
        assert answer.status_code == 404, method
        assert "isn't yours" in answer.json()["detail"]
    streamed = client.get(f"/api/generations/{run['id']}?stream=true", headers=eve)
    assert streamed.status_code == 404
    assert client.get("/api/generations/999999", headers=key).status_code == 404
    # ... and her saved private prompt can't be generated from by someone else.
    refused = client.post("/api/generations", headers=eve,
                          json={"prompt_id": saved.id, "model": OFFLINE})  # fmt: skip
    assert refused.status_code == 404
    assert client.get(f"/api/generations/{run['id']}", headers=key).json()["status"] == "queued"


def test_no_credits_is_402_with_what_it_costs(
    client: TestClient, session: Session, saved: Prompt, together: FakeTogetherServer
) -> None:
    broke = make_user(session, "broke@example.com")
    answer = client.post("/api/generations", headers=key_for(session, broke),
                         json={"prompt": LIGHTHOUSE, "model": "flux-schnell", "n": 2})  # fmt: skip
    assert answer.status_code == 402
    detail = answer.json()["detail"]
    assert "credit" in detail.lower() and "2" in detail
    assert client.get("/api/generations", headers=key_for(session, broke)).json() == []


def test_a_missing_key_is_503_and_says_which(client: TestClient, key: dict[str, str]) -> None:
    answer = client.post("/api/generations", headers=key,
                         json={"prompt": LIGHTHOUSE, "model": "flux-schnell"})  # fmt: skip
    assert answer.status_code == 503
    assert "TOGETHER_API_KEY" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"n": "2"}, "valid integer"),  # a string for an int
        ({"n": True}, "valid integer"),
        ({"n": 1.5}, "valid integer"),
        ({"n": 5}, "less than or equal to 4"),
        ({"n": 10**30}, "less than or equal to 4"),
        ({"n": 0}, "greater than or equal to 1"),
        ({"seed": -1}, "greater than or equal to 0"),
        ({"seed": 2**32}, "less than 4294967296"),
        ({"seed": "7"}, "valid integer"),
        ({"steps": 0}, "greater than or equal to 1"),
        ({"guidance": 51}, "less than or equal to 50"),
        ({"model": ""}, "at least 1 character"),
        ({"model": "flux\u0000schnell"}, "NUL"),
        ({"aspect": "x" * 21}, "at most 20 characters"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"prompt_id": "1"}, "valid integer"),
        ({"prompt_id": 2**40}, "less than or equal to 2147483647"),
    ],
)
def test_nasty_fields_are_422_naming_the_field(
    client: TestClient, key: dict[str, str], change: dict[str, Any], says: str
) -> None:
    body = {"prompt": LIGHTHOUSE, "model": OFFLINE} | change
    answer = client.post("/api/generations", headers=key, json=body)
    assert answer.status_code == 422, answer.text
    reply = answer.json()
    assert any(says in e["message"] for e in reply["errors"]), reply
    assert client.get("/api/generations", headers=key).json() == []  # nothing was started


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"model": OFFLINE}, "Pick a saved prompt, or give a JSON prompt"),
        ({"prompt": LIGHTHOUSE, "prompt_id": 1, "model": OFFLINE}, "not both"),
        ({"prompt": LIGHTHOUSE, "version": 2, "model": OFFLINE}, "needs the prompt"),
        ({"prompt": LIGHTHOUSE, "model": "nope/not-a-model"}, "Unknown model"),
        ({"prompt": LIGHTHOUSE, "model": OFFLINE, "aspect": "1:9"}, "too stretched"),
        ({"prompt": LIGHTHOUSE, "model": OFFLINE, "aspect": "wide"}, "not an aspect ratio"),
        ({"prompt": LIGHTHOUSE, "model": OFFLINE, "preset": "no-such"}, "no style preset"),
    ],
)
def test_requests_the_services_refuse_are_422_with_what_to_fix(
    client: TestClient, key: dict[str, str], saved: Prompt, body: dict[str, Any], says: str
) -> None:
    answer = client.post("/api/generations", headers=key, json=body)
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"]
    assert client.get("/api/generations", headers=key).json() == []


def test_a_prompt_that_breaks_the_schema_lists_each_field(
    client: TestClient, key: dict[str, str]
) -> None:
    broken = LIGHTHOUSE | {"color_palette": [{"hex": "not-a-colour"}], "subjects": "one"}
    answer = client.post("/api/generations", headers=key, json={"prompt": broken, "model": OFFLINE})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"prompt.color_palette[0].hex", "prompt.subjects"} <= fields, fields


def test_a_body_that_is_not_json_or_not_an_object(client: TestClient, key: dict[str, str]) -> None:
    for content in (b'{"model": ', b"[1, 2]", b'"text"', b'{"guidance": NaN, "model": "x"}'):
        answer = client.post(
            "/api/generations",
            headers=key | {"Content-Type": "application/json"},
            content=content,
        )
        assert answer.status_code == 422, content
        assert answer.json()["detail"]


# --- the stream, over real HTTP ---------------------------------------------------------------


@pytest.fixture
def served(db_url: str) -> Iterator[str]:
    """The API under uvicorn on a loopback port, in this process (same settings and queue)."""
    with serving_api(free_port()) as url:
        yield url


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(event, data) per Server-Sent Event; ("comment", None) for a comment line."""
    event, data = "message", []
    for line in response.iter_lines():
        if line.startswith(":"):
            yield "comment", None
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []


def test_the_stream_sends_each_change_in_order_then_done_and_closes(
    served: str, session: Session, key: dict[str, str], saved: Prompt
) -> None:
    with httpx.Client(base_url=served, headers=key, timeout=30) as http:
        run = http.post("/api/generations",
                        json={"prompt_id": saved.id, "model": OFFLINE, "n": 2}).json()  # fmt: skip
        seen: list[tuple[str, str, bool]] = []
        with http.stream("GET", f"/api/generations/{run['id']}?stream=true") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = sse_events(stream)
            for event, data in events:
                if data is None:
                    continue
                seen.append((event, data["status"], data["cancel_requested"]))
                if len(seen) == 1:  # queued: a worker takes it
                    assert claim(session, generation_id=run["id"], worker_id="test-worker")
                elif len(seen) == 2:  # running: the person cancels while an image is made
                    assert http.delete(f"/api/generations/{run['id']}").status_code == 200
                elif len(seen) == 3:  # the worker lets go; the queue finishes the run
                    release(session, generation_id=run["id"], worker_id="test-worker")
                    run_queue()
            final = data
        assert seen[:3] == [
            ("progress", "queued", False),
            ("progress", "running", False),
            ("progress", "running", True),
        ]
        assert seen[-1] == ("done", "cancelled", True)
        assert [e for e, _, _ in seen].count("done") == 1  # then the stream closed
        assert final is not None and {i["status"] for i in final["images"]} == {"cancelled"}


def test_a_finished_run_streams_its_images_with_urls(
    served: str, key: dict[str, str], saved: Prompt
) -> None:
    with httpx.Client(base_url=served, headers=key, timeout=30) as http:
        run = http.post("/api/generations",
                        json={"prompt_id": saved.id, "model": OFFLINE}).json()  # fmt: skip
        run_queue()
        with http.stream("GET", f"/api/generations/{run['id']}?stream=true") as stream:
            events = [(e, d) for e, d in sse_events(stream) if d is not None]
        ((event, data),) = events  # already finished: one event, then the end
        assert event == "done" and data is not None and data["status"] == "done"
        (image,) = data["images"]
        # Signed for the app's public address (APP_URL); here the same app answers on another port.
        file = http.get(httpx.URL(image["url"]).raw_path.decode())
        assert file.status_code == 200 and metadata.read(file.content) is not None


def test_quiet_streams_get_heartbeat_comments(
    client: TestClient, ada: User, saved: Prompt, key: dict[str, str]
) -> None:
    run = client.post("/api/generations", headers=key,
                      json={"prompt_id": saved.id, "model": OFFLINE}).json()  # fmt: skip
    assert ada.id is not None
    user_id = ada.id

    async def read() -> list[bytes]:
        stream = progress_events(user_id, run["id"], poll_seconds=0.01, heartbeat_seconds=0.05)
        chunks = []
        async for chunk in stream:
            chunks.append(chunk)
            if chunks.count(b": still working\n\n") == 2:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        return chunks

    chunks = asyncio.run(read())
    assert chunks[0].startswith(b"event: progress\n")
    assert chunks[1:] == [b": still working\n\n"] * 2  # nothing changed: only heartbeats


# --- LoRAs ------------------------------------------------------------------------------------


def trained_lora(session: Session, user: User, name: str = "ada-face") -> int:
    assert user.id is not None
    row = LoraTraining(user_id=user.id, name=name, trigger_word="TOK", steps=1000, status="done",
                       lora_url="https://fal.media/files/ada.safetensors")  # fmt: skip
    session.add(row)
    session.commit()
    assert row.id is not None
    return row.id


def test_a_trained_lora_runs_on_flux_lora_and_only_its_owner_can_use_it(
    client: TestClient, session: Session, ada: User, key: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("FAL_KEY", "fal-key")
    reset_settings()
    mine = trained_lora(session, ada)
    body = {"prompt": LIGHTHOUSE, "model": SCHNELL, "loras": [{"id": mine, "scale": 0.7}]}
    started = client.post("/api/generations", json=body, headers=key)
    assert started.status_code == 202, started.text
    assert started.json()["model"] == "fal-ai/flux-lora"
    row = session.get(Generation, started.json()["id"])
    assert row is not None
    assert row.loras == [{"path": "https://fal.media/files/ada.safetensors", "scale": 0.7}]

    bob = make_user(session, "bob@example.com", balance=20)
    theirs = client.post("/api/generations", json=body, headers=key_for(session, bob))
    assert theirs.status_code == 404
    assert "isn't yours" in theirs.json()["detail"]
    for bad in ([{"id": mine, "scale": 2.5}], [{"id": "one"}], [], [{"id": mine}] * 4):
        refused = client.post("/api/generations", json={**body, "loras": bad}, headers=key)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"].startswith("loras")
    untrained = trained_lora(session, ada, "still-training")
    row_untrained = session.get(LoraTraining, untrained)
    assert row_untrained is not None
    row_untrained.status = "training"
    session.add(row_untrained)
    session.commit()
    waiting = client.post("/api/generations", json={**body, "loras": [{"id": untrained}]},
                          headers=key)  # fmt: skip
    assert waiting.status_code == 422
    assert "not trained yet" in waiting.json()["detail"]

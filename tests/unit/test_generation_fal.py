"""Fal.ai image generation through its queue, against a loopback fake of the queue (real HTTP)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from app.services.analyzer.providers.openai_chat import RetryPolicy
from app.services.core.errors import (
    ContentRefusedError,
    MissingKeyError,
    ProviderAuthError,
    ProviderPaymentError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from app.services.generation.providers.fal import BUILTIN_MODELS, FalImageModel
from app.services.generation.providers.fal_queue import FalQueue
from app.services.generation.types import (
    GeneratedImage,
    GenerationRequest,
    LoraWeight,
    Progress,
)
from app.settings import get_settings, reset_settings
from tests.utils.fakes.fal_queue_server import KEY, FakeFalQueueServer, error, ok, serve

NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0)
MODELS = {info.model_id: (info, steps, loras) for info, steps, loras in BUILTIN_MODELS}


@pytest.fixture
def fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFalQueueServer]:
    for server in serve():
        monkeypatch.setenv("FAL_QUEUE_URL", server.url)
        monkeypatch.setenv("FAL_KEY", KEY)
        monkeypatch.setenv("FAL_POLL_INTERVAL_SECONDS", "0")  # poll at once: no real waiting
        reset_settings()
        yield server


def model(model_id: str = "fal-ai/flux/dev") -> FalImageModel:
    info, steps, loras = MODELS[model_id]
    return FalImageModel(info, settings=get_settings(), retry=NO_WAIT, steps=steps, loras=loras)


def request(model_id: str = "fal-ai/flux/dev", **kwargs: object) -> GenerationRequest:
    fields: dict[str, object] = {"model_id": model_id, "prompt": "a red boat at sunset"}
    return GenerationRequest(**(fields | kwargs))  # type: ignore[arg-type]


def generate(
    m: FalImageModel, r: GenerationRequest, progress: list[Progress] | None = None
) -> list[GeneratedImage]:
    on_progress = progress.append if progress is not None else None
    return asyncio.run(m.generate(r, on_progress=on_progress))


def size_of(image: GeneratedImage) -> tuple[int, int]:
    return Image.open(io.BytesIO(image.data)).size


def test_queue_run_reports_each_place_then_running_then_done(fal: FakeFalQueueServer) -> None:
    progress: list[Progress] = []
    images = generate(
        model(), request(width=1024, height=768, n=2, seed=11, steps=28, guidance=3.5), progress
    )

    assert [size_of(i) for i in images] == [(1024, 768), (1024, 768)]
    assert {(i.provider, i.model, i.seed, i.nsfw) for i in images} == {
        ("fal", "fal-ai/flux/dev", 11, False)
    }
    [request_id] = list(fal.queued)
    assert {i.request_id for i in images} == {request_id}
    assert [(p.stage, p.position) for p in progress] == [
        ("queued", None), ("queued", 2), ("queued", 1), ("queued", 0), ("running", None),
        ("done", None),
    ]  # fmt: skip
    submit = fal.requests[0]
    assert (submit.method, submit.path) == ("POST", "/fal-ai/flux/dev")
    assert submit.headers["authorization"] == f"Key {KEY}"
    assert submit.body == {
        "prompt": "a red boat at sunset", "image_size": "landscape_4_3", "num_images": 2,
        "enable_safety_checker": True, "seed": 11, "num_inference_steps": 28,
        "guidance_scale": 3.5,
    }  # fmt: skip
    # Every later call went to the URLs the queue returned: the app id, without "/dev".
    queue_calls = [r for r in fal.requests[1:] if not r.path.startswith("/files/")]
    assert {r.path.split("/requests/")[0] for r in queue_calls} == {"/fal-ai/flux"}
    downloads = [r for r in fal.requests if r.path.startswith("/files/")]
    assert len(downloads) == 2
    assert all("authorization" not in d.headers for d in downloads)


def test_urls_rebuilt_from_the_model_id_point_nowhere(fal: FakeFalQueueServer) -> None:
    """The trap the fake sets, as the real queue does: only the returned URLs work."""

    async def run() -> tuple[int, int]:
        queue = FalQueue(settings=get_settings(), retry=NO_WAIT)
        queued = await queue.submit("fal-ai/flux/dev", {"prompt": "x"})
        headers = {"Authorization": f"Key {KEY}"}
        async with httpx.AsyncClient() as client:
            rebuilt = f"{fal.url}/fal-ai/flux/dev/requests/{queued.request_id}/status"
            wrong = await client.get(rebuilt, headers=headers)
            right = await client.get(queued.status_url, headers=headers)
        return wrong.status_code, right.status_code

    assert asyncio.run(run()) == (404, 200)


def test_custom_sizes_go_as_width_and_height(fal: FakeFalQueueServer) -> None:
    [image] = generate(
        model("fal-ai/flux/schnell"), request("fal-ai/flux/schnell", width=640, height=400)
    )
    assert size_of(image) == (640, 400)
    assert fal.requests[0].body["image_size"] == {"width": 640, "height": 400}


def test_lora_model_sends_the_loras_and_pro_ultra_an_aspect_ratio(fal: FakeFalQueueServer) -> None:
    lora = LoraWeight("https://example.test/lora.safetensors", 0.8)
    generate(model("fal-ai/flux-lora"), request("fal-ai/flux-lora", loras=(lora,)))
    assert fal.requests[0].body["loras"] == [{"path": lora.path, "scale": 0.8}]

    ultra = model("fal-ai/flux-pro/v1.1-ultra")
    args = ultra.arguments(request("fal-ai/flux-pro/v1.1-ultra", width=1920, height=1080, steps=9))
    assert args["aspect_ratio"] == "16:9"
    assert "image_size" not in args and "num_inference_steps" not in args


def test_cancel_stops_a_queued_request_once(fal: FakeFalQueueServer) -> None:
    fal.finish = False

    async def run() -> tuple[bool, bool, dict[str, object]]:
        queue = FalQueue(settings=get_settings(), retry=NO_WAIT)
        queued = await queue.submit("fal-ai/flux/dev", {"prompt": "x"})
        first = await queue.cancel(queued)
        second = await queue.cancel(queued)
        return first, second, await queue.status(queued)

    first, second, status = asyncio.run(run())
    assert (first, second) == (True, False)  # the second finds it already completed
    assert status["status"] == "COMPLETED" and status["error"]
    puts = [r for r in fal.requests if r.method == "PUT"]
    assert [p.path.split("/requests/")[0] for p in puts] == ["/fal-ai/flux", "/fal-ai/flux"]


def test_a_caller_that_stops_waiting_cancels_the_request_at_fal(
    fal: FakeFalQueueServer,
) -> None:
    fal.finish = False

    async def run() -> None:
        running = asyncio.Event()

        def on_progress(progress: Progress) -> None:
            if progress.stage == "running":
                running.set()

        task = asyncio.create_task(model().generate(request(), on_progress=on_progress))
        waiting = asyncio.create_task(running.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        assert not task.done(), task.exception()  # still waiting on Fal: nothing failed early
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    [queued] = fal.queued.values()
    assert queued.cancelled
    assert [r.method for r in fal.requests].count("PUT") == 1


def test_too_slow_a_run_is_cancelled_and_reported_as_a_timeout(
    fal: FakeFalQueueServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fal.finish = False
    monkeypatch.setenv("GENERATION_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("FAL_POLL_INTERVAL_SECONDS", "0.02")
    reset_settings()
    with pytest.raises(
        ProviderTimeoutError, match="within 0.2 seconds, so the request was cancelled"
    ):
        generate(model(), request())
    [queued] = fal.queued.values()
    assert queued.cancelled
    assert [r.method for r in fal.requests].count("PUT") == 1


@pytest.mark.parametrize(
    ("reply", "raised", "words"),
    [
        (error(401, "Invalid Key"), ProviderAuthError, "FAL_KEY"),
        (
            error(403, "User is locked. Reason: Exhausted balance. Top up your balance."),
            ProviderPaymentError,
            "out of credit",
        ),
        (
            error(429, "Too many requests", headers={"Retry-After": "12"}),
            RateLimitedError,
            "12 seconds",
        ),
    ],
)
def test_submit_errors_become_messages_a_person_can_act_on(
    fal: FakeFalQueueServer, reply: object, raised: type[Exception], words: str
) -> None:
    fal.script(reply)  # type: ignore[arg-type]
    with pytest.raises(raised, match=words):
        generate(model(), request())
    assert len(fal.requests) == 1  # none of these is worth repeating


def test_a_wrong_key_is_refused_by_the_queue_itself(
    fal: FakeFalQueueServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "not-the-key")
    reset_settings()
    with pytest.raises(ProviderAuthError) as caught:
        generate(model(), request())
    assert "not-the-key" not in caught.value.message


def test_missing_key(fal: FakeFalQueueServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAL_KEY")
    reset_settings()
    assert "FAL_KEY" in (model().unavailable_reason() or "")
    with pytest.raises(MissingKeyError):
        generate(model(), request())
    assert fal.requests == []


def test_503_on_submit_and_on_a_poll_are_retried(fal: FakeFalQueueServer) -> None:
    fal.script(error(503), error(503), ok())
    fal.script_polls(ok(), error(503), ok())
    [image] = generate(model(), request(width=512, height=512))
    assert size_of(image) == (512, 512)
    assert [r.method for r in fal.requests[:3]] == ["POST", "POST", "POST"]
    assert len(fal.queued) == 1  # refused submits queued nothing


def test_every_image_flagged_is_a_refusal(fal: FakeFalQueueServer) -> None:
    fal.nsfw = [True]
    with pytest.raises(ContentRefusedError, match="safety checker flagged every image"):
        generate(model(), request())


def test_some_images_flagged_keep_their_flag(fal: FakeFalQueueServer) -> None:
    fal.nsfw = [False, True]
    images = generate(model(), request(n=2))
    assert [i.nsfw for i in images] == [False, True]


def test_polling_that_keeps_failing_gives_up_and_cancels_the_run(fal: FakeFalQueueServer) -> None:
    fal.script_polls(error(503))
    with pytest.raises(ProviderUnavailableError, match="not answering properly"):
        generate(model(), request())
    polls = [r for r in fal.requests if r.path.endswith("/status")]
    assert len(polls) == NO_WAIT.attempts
    [queued] = fal.queued.values()
    assert queued.cancelled

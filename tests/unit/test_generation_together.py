"""Together AI image generation against a loopback fake of its API and CDN (real HTTP)."""

from __future__ import annotations

import asyncio
import io
import socket
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
from app.services.generation.providers.together import (
    BUILTIN_MODELS,
    TogetherImageModel,
    multiple_of_16,
)
from app.services.generation.types import GeneratedImage, GenerationRequest, Progress
from app.settings import Settings, get_settings, reset_settings
from tests.utils.fakes.together_server import (
    DROP,
    KEY,
    PATH,
    SERVE,
    FakeTogetherServer,
    error,
    ok,
    serve,
)

# No real waiting between attempts: the backoff is the context's, not patched.
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0)
SCHNELL = BUILTIN_MODELS[0]


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogetherServer]:
    for server in serve():
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", KEY)
        reset_settings()
        yield server


def model(settings: Settings | None = None, **kwargs: object) -> TogetherImageModel:
    return TogetherImageModel(SCHNELL, settings=settings or get_settings(), retry=NO_WAIT, **kwargs)  # type: ignore[arg-type]


def generate(
    m: TogetherImageModel,
    request: GenerationRequest,
    *,
    client: httpx.AsyncClient | None = None,
    progress: list[Progress] | None = None,
) -> list[GeneratedImage]:
    on_progress = progress.append if progress is not None else None
    return asyncio.run(m.generate(request, client=client, on_progress=on_progress))


def size_of(image: GeneratedImage) -> tuple[int, int]:
    return Image.open(io.BytesIO(image.data)).size


def request(**kwargs: object) -> GenerationRequest:
    fields: dict[str, object] = {"model_id": SCHNELL.model_id, "prompt": "a red boat at sunset"}
    return GenerationRequest(**(fields | kwargs))  # type: ignore[arg-type]


def test_images_by_url_come_back_at_a_size_together_accepts(together: FakeTogetherServer) -> None:
    progress: list[Progress] = []
    images = generate(
        model(), request(width=1000, height=570, n=2, seed=7, steps=4), progress=progress
    )

    assert [size_of(i) for i in images] == [(1008, 576), (1008, 576)]  # nearest multiples of 16
    assert {i.mime_type for i in images} == {"image/png"}
    assert images[0].data != images[1].data  # two images, not one twice
    assert {(i.provider, i.model, i.seed) for i in images} == {("together", SCHNELL.model_id, 7)}
    assert images[0].request_id and images[0].request_id.startswith("tg-")
    assert images[0].duration_seconds > 0
    assert [p.stage for p in progress] == ["running", "done"]
    post, *gets = together.requests
    assert (post.method, post.path) == ("POST", PATH)
    assert post.headers["authorization"] == f"Bearer {KEY}"
    assert post.body == {
        "model": SCHNELL.model_id, "prompt": "a red boat at sunset", "width": 1008,
        "height": 576, "n": 2, "seed": 7, "steps": 4, "response_format": "url",
    }  # fmt: skip
    assert [g.method for g in gets] == ["GET", "GET"]
    assert all(g.headers["user-agent"] == "JSONCraft" for g in gets)
    assert all("authorization" not in g.headers for g in gets)  # the CDN never sees our key


def test_json_prompt_is_sent_as_json_text_and_base64_answers_are_decoded(
    together: FakeTogetherServer,
) -> None:
    prompt = {"scene": "a red boat", "color_palette": [{"hex": "#ff0000"}]}
    [image] = generate(model(response_format="base64"), request(prompt=prompt, width=512))
    assert size_of(image) == (512, 1024)
    [post] = together.requests  # nothing to download
    assert post.body["response_format"] == "base64"
    assert post.body["prompt"] == '{"scene": "a red boat", "color_palette": [{"hex": "#ff0000"}]}'


def test_pro_models_get_no_steps(together: FakeTogetherServer) -> None:
    pro = next(i for i in BUILTIN_MODELS if i.model_id.endswith("FLUX.1.1-pro"))
    m = TogetherImageModel(pro, settings=get_settings(), retry=NO_WAIT)
    generate(m, request(model_id=pro.model_id, steps=20))
    assert "steps" not in together.requests[0].body


def test_cdn_refuses_downloads_without_a_user_agent_and_ours_sends_one(
    together: FakeTogetherServer,
) -> None:
    async def run() -> tuple[int, list[GeneratedImage]]:
        async with httpx.AsyncClient() as bare:
            del bare.headers["User-Agent"]  # a client with no User-Agent at all
            answer = await bare.post(
                together.base_url + "/images/generations",
                json={"model": SCHNELL.model_id, "prompt": "x", "width": 64, "height": 64},
                headers={"Authorization": f"Bearer {KEY}"},
            )
            refused = await bare.get(answer.json()["data"][0]["url"])
            # Our client sends its User-Agent on every download, even on a bare client.
            images = await model().generate(request(), client=bare)
            return refused.status_code, images

    status, [image] = asyncio.run(run())
    assert status == 403
    assert size_of(image) == (1024, 1024)


def test_rejected_key_says_which_setting_to_check(
    together: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "wrong-key-123")
    reset_settings()
    with pytest.raises(ProviderAuthError) as caught:
        generate(model(), request())
    assert "TOGETHER_API_KEY" in caught.value.message
    assert "wrong-key-123" not in caught.value.message
    assert len(together.requests) == 1  # a refused key is not retried


def test_missing_key_fails_before_any_call(
    together: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "  ")
    reset_settings()
    m = model()
    assert m.unavailable_reason() is not None and "TOGETHER_API_KEY" in m.unavailable_reason()  # type: ignore[operator]
    with pytest.raises(MissingKeyError):
        generate(m, request())
    assert together.requests == []


def test_out_of_credits_at_together(together: FakeTogetherServer) -> None:
    together.script(error(402, "Credit limit exceeded"))
    with pytest.raises(ProviderPaymentError, match="out of credit"):
        generate(model(), request())


def test_rate_limit_surfaces_the_wait_from_x_ratelimit_headers(
    together: FakeTogetherServer,
) -> None:
    headers = {"x-ratelimit-limit": "6", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "6.2"}
    together.script(error(429, "rate limit exceeded", headers=headers))
    with pytest.raises(RateLimitedError) as caught:
        generate(model(), request())
    assert caught.value.retry_after == 7
    assert "in 7 seconds" in caught.value.message
    assert len(together.requests) == 1


def test_nsfw_refusal_asks_to_reword(together: FakeTogetherServer) -> None:
    together.script(error(422, "Prompt was flagged as NSFW content"))
    with pytest.raises(ContentRefusedError, match="Reword the prompt"):
        generate(model(), request())


def test_503_is_retried_then_succeeds(together: FakeTogetherServer) -> None:
    together.script(error(503, "overloaded"), error(503, "overloaded"), ok())
    [image] = generate(model(), request())
    assert size_of(image) == (1024, 1024)
    assert [r.method for r in together.requests] == ["POST", "POST", "POST", "GET"]


def test_503_every_time_gives_up_with_a_readable_error(together: FakeTogetherServer) -> None:
    together.script(error(503))
    with pytest.raises(ProviderUnavailableError, match="not answering properly"):
        generate(model(), request())
    assert len(together.requests) == NO_WAIT.attempts


def test_download_broken_mid_body_is_fetched_again(together: FakeTogetherServer) -> None:
    together.script_downloads(DROP, 502, SERVE)
    [image] = generate(model(), request(width=256, height=256))
    assert size_of(image) == (256, 256)
    assert [r.method for r in together.requests] == ["POST", "GET", "GET", "GET"]


def test_download_that_keeps_breaking_fails_clearly(together: FakeTogetherServer) -> None:
    together.script_downloads(DROP)
    with pytest.raises(ProviderUnavailableError, match="downloading it kept failing"):
        generate(model(), request(width=256, height=256))
    assert len(together.requests) == 1 + NO_WAIT.attempts  # the paid call is not repeated


def test_silent_server_times_out_with_the_limit_in_the_message() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts connections, never answers
        port = listener.getsockname()[1]
        settings = Settings(together_base_url=f"http://127.0.0.1:{port}/v1", together_api_key=KEY)  # type: ignore[arg-type]
        m = TogetherImageModel(
            SCHNELL, settings=settings, retry=NO_WAIT, timeout=httpx.Timeout(0.2)
        )
        with pytest.raises(ProviderTimeoutError, match="did not answer within 0.2 seconds"):
            generate(m, request())


@pytest.mark.parametrize(("side", "snapped"), [(64, 64), (1000, 1008), (1023, 1024), (72, 80)])
def test_sizes_snap_to_multiples_of_16(side: int, snapped: int) -> None:
    assert multiple_of_16(side) == snapped

"""Background removal through Fal.ai, against a fake Fal server on loopback (real HTTP)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from app.services.core.errors import (
    InvalidOutputError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderUnavailableError,
    RateLimitedError,
)
from app.services.studio.imageops import OutputFile, map_images, parse_spec, process_image
from app.settings import reset_settings
from tests.utils.fakes.fal_server import KEY, PATH, FakeFalServer, Reply, error, ok, serve
from tests.utils.imageops_samples import photo_jpeg

SPEC = parse_spec({"remove_background": {"provider": "fal"}, "convert": {"format": "png"}})


@pytest.fixture
def fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFalServer]:
    for server in serve():
        monkeypatch.setenv("FAL_BASE_URL", server.url)
        monkeypatch.setenv("FAL_KEY", KEY)
        reset_settings()
        yield server


def alpha_of(output: OutputFile) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(output.data)).getchannel("A"))


def test_result_alpha_is_applied_to_our_pixels(fal: FakeFalServer) -> None:
    [out] = process_image(photo_jpeg((200, 100)), "p.jpg", SPEC)
    alpha = alpha_of(out)
    assert alpha.shape == (100, 200)
    assert alpha[:, :100].max() == 0 and alpha[:, 100:].min() == 255  # the fake cut the left half
    [request] = fal.requests
    assert (request.method, request.path) == ("POST", PATH)
    assert request.headers["authorization"] == f"Key {KEY}"
    assert request.body["image_url"].startswith("data:image/png;base64,")
    assert request.body["sync_mode"] is True


def test_hosted_result_is_fetched_without_our_key(fal: FakeFalServer) -> None:
    fal.script(ok(result="url"))
    [out] = process_image(photo_jpeg((200, 100)), "p.jpg", SPEC)
    assert alpha_of(out)[:, :100].max() == 0
    post, get = fal.requests
    assert get.method == "GET" and get.path.startswith("/files/")
    assert "authorization" not in get.headers


def test_missing_key_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    reset_settings()
    with pytest.raises(MissingKeyError, match="FAL_KEY"):
        process_image(photo_jpeg((64, 48)), "p.jpg", SPEC)


@pytest.mark.parametrize(
    ("reply", "error_type", "words"),
    [
        (error(401, "Invalid key"), ProviderAuthError, "Check FAL_KEY"),
        (error(403, "Forbidden"), ProviderAuthError, "HTTP 403"),
        (error(404, "Application not found"), ModelNotFoundError, "fal-ai/imageutils/rembg"),
        (error(429, headers={"Retry-After": "7"}), RateLimitedError, "in 7 seconds"),
        (Reply(body=b'{"images": []}'), InvalidOutputError, "without an image"),
        (Reply(body=b"<html>gateway</html>"), InvalidOutputError, "not JSON"),
    ],
    ids=["401", "403", "404", "429", "no-image", "not-json"],
)
def test_errors_map_to_provider_errors(
    fal: FakeFalServer, reply: Reply, error_type: type, words: str
) -> None:
    fal.script(reply)
    with pytest.raises(error_type) as caught:
        process_image(photo_jpeg((64, 48)), "p.jpg", SPEC)
    assert words in caught.value.message
    assert KEY not in caught.value.message
    if error_type is RateLimitedError:
        assert caught.value.retry_after == 7


def test_server_errors_are_retried_then_reported(fal: FakeFalServer) -> None:
    fal.script(error(500))
    with pytest.raises(ProviderUnavailableError, match="HTTP 500"):
        process_image(photo_jpeg((64, 48)), "p.jpg", SPEC)
    assert len(fal.requests) == 3


def test_one_server_error_is_retried(fal: FakeFalServer) -> None:
    fal.script(error(502), ok())
    [out] = process_image(photo_jpeg((64, 48)), "p.jpg", SPEC)
    assert alpha_of(out)[:, :32].max() == 0
    assert len(fal.requests) == 2


def test_fal_from_the_worker_pool_uses_the_callers_settings(fal: FakeFalServer) -> None:
    # Workers outlive tests and keep the environment they started with; the settings that
    # count travel with each image.
    fal.script(error(401))
    items = [(0, photo_jpeg((64, 48)), "a.jpg")]
    [(_, result)] = list(map_images(items, SPEC, workers=2, in_process=False))
    assert isinstance(result, ProviderAuthError)
    fal.script(ok())
    [(_, result)] = list(map_images(items, SPEC, workers=2, in_process=False))
    assert isinstance(result, list) and result[0].name == "a.png"

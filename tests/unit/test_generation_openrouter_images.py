"""OpenRouter image models against a loopback fake of its chat completions (real HTTP)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from app.services.analyzer.catalogue.entries import CatalogueEntry
from app.services.analyzer.providers.openai_chat import RetryPolicy
from app.services.core.errors import (
    ContentRefusedError,
    InvalidOutputError,
    ProviderAuthError,
    ProviderPaymentError,
    ProviderUnavailableError,
)
from app.services.generation.providers.openrouter_images import (
    BUILTIN_MODELS,
    OpenRouterImageModel,
    infos_from_catalogue,
)
from app.services.generation.types import GeneratedImage, GenerationRequest
from app.settings import get_settings, reset_settings
from tests.utils.fakes.openrouter_images_server import (
    KEY,
    PATH,
    FakeOpenRouterImagesServer,
    error,
    in_body_error,
    ok,
    serve,
    text_only,
)

NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0)
GEMINI = BUILTIN_MODELS[0]


@pytest.fixture
def openrouter(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenRouterImagesServer]:
    for server in serve():
        monkeypatch.setenv("OPENROUTER_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
        reset_settings()
        yield server


def generate(**kwargs: object) -> list[GeneratedImage]:
    fields: dict[str, object] = {"model_id": GEMINI.model_id, "prompt": "a red boat at sunset"}
    request = GenerationRequest(**(fields | kwargs))  # type: ignore[arg-type]
    model = OpenRouterImageModel(GEMINI, settings=get_settings(), retry=NO_WAIT)
    return asyncio.run(model.generate(request))


def test_each_image_is_one_call_asking_for_image_output(
    openrouter: FakeOpenRouterImagesServer,
) -> None:
    images = generate(width=1920, height=1080, n=2, seed=5)

    assert [Image.open(io.BytesIO(i.data)).size for i in images] == [(256, 144), (256, 144)]
    assert [i.seed for i in images] == [5, 6]
    assert {(i.provider, i.model, i.mime_type) for i in images} == {
        ("openrouter", GEMINI.model_id, "image/png")
    }
    assert all(i.request_id and i.request_id.startswith("gen-") for i in images)
    first, second = openrouter.requests
    assert first.path == PATH and first.headers["authorization"] == f"Bearer {KEY}"
    assert first.body["modalities"] == ["image", "text"]
    assert first.body["image_config"] == {"aspect_ratio": "16:9"}
    assert first.body["messages"] == [{"role": "user", "content": "a red boat at sunset"}]
    assert (first.body["seed"], second.body["seed"]) == (5, 6)


def test_an_answer_without_an_image_says_what_the_model_said(
    openrouter: FakeOpenRouterImagesServer,
) -> None:
    openrouter.script(text_only())
    with pytest.raises(InvalidOutputError, match="answered without an image.*red boat"):
        generate()


def test_an_error_inside_a_200_answer_is_retried_when_it_is_a_5xx(
    openrouter: FakeOpenRouterImagesServer,
) -> None:
    openrouter.script(in_body_error(502), ok())
    [image] = generate()
    assert image.data.startswith(b"\x89PNG")
    assert len(openrouter.requests) == 2


def test_a_persistent_upstream_error_gives_up_readably(
    openrouter: FakeOpenRouterImagesServer,
) -> None:
    openrouter.script(error(503))
    with pytest.raises(ProviderUnavailableError):
        generate()
    assert len(openrouter.requests) == NO_WAIT.attempts


@pytest.mark.parametrize(
    ("reply", "raised", "words"),
    [
        (error(401, "No auth credentials found"), ProviderAuthError, "OPENROUTER_API_KEY"),
        (error(402, "Insufficient credits"), ProviderPaymentError, "out of credit"),
        (error(403, "Input was flagged by moderation"), ContentRefusedError, "safety filter"),
    ],
)
def test_errors_a_person_can_act_on(
    openrouter: FakeOpenRouterImagesServer, reply: object, raised: type[Exception], words: str
) -> None:
    openrouter.script(reply)  # type: ignore[arg-type]
    with pytest.raises(raised, match=words):
        generate()


def test_image_output_models_come_from_the_catalogue() -> None:
    entries = [
        CatalogueEntry("google/gemini-2.5-flash-image", "Nano Banana",
                       input_modalities=("text", "image"), output_modalities=("image", "text"),
                       image_usd=0.039),
        CatalogueEntry("openai/gpt-4o-mini", "GPT-4o mini", output_modalities=("text",)),
    ]  # fmt: skip
    [info] = infos_from_catalogue(entries)
    assert (info.model_id, info.provider, info.vision) == (
        "google/gemini-2.5-flash-image", "openrouter", False
    )  # fmt: skip
    assert info.price_note == "$0.039 / image"

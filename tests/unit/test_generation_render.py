"""What each model family receives for one canonical JSON prompt."""

from __future__ import annotations

import json

import pytest

from app.services.core.errors import InvalidInputError
from app.services.generation.render import (
    OFFLINE_MODEL_ID,
    family_of,
    render_for_model,
)
from tests.utils.prompt_factories import prompt_data

FLUX2 = [
    "black-forest-labs/FLUX.2-pro",
    "black-forest-labs/FLUX.2-dev",
    "black-forest-labs/FLUX.2-flex",
]
FLUX1 = [
    "black-forest-labs/FLUX.1-schnell",
    "black-forest-labs/FLUX.1-schnell-Free",
    "black-forest-labs/FLUX.1.1-pro",
    "black-forest-labs/FLUX.1-kontext-pro",
    "fal-ai/flux/schnell",
    "fal-ai/flux/dev",
    "fal-ai/flux-pro/v1.1",
    "fal-ai/flux-pro/v1.1-ultra",
    "fal-ai/flux-lora",
]


def _prompt() -> dict:
    return prompt_data(
        "A lighthouse on a cliff at dusk",
        subjects=[{"description": "white lighthouse", "position": "left third"}],
        style={"medium": "oil painting"},
        color_palette=[{"hex": "#1b2a49", "name": "navy"}],
        lighting={"conditions": "golden hour"},
        text_render=[{"text": "HOLD FAST", "position": "bottom center"}],
        negative="blurry, watermark",
    )


@pytest.mark.parametrize("model_id", FLUX2)
def test_flux2_receives_bfl_json_and_never_a_negative(model_id: str) -> None:
    rendered = render_for_model(_prompt(), model_id)

    assert rendered.family == "flux2"
    assert rendered.prompt_format == "json"
    sent = json.loads(rendered.text)
    assert sent == rendered.structured
    assert sent["scene"].startswith("A lighthouse on a cliff at dusk")
    assert "HOLD FAST" in sent["scene"]
    assert sent["color_palette"] == ["#1b2a49"]
    assert sent["style"] == "oil painting"
    assert "negative" not in sent
    assert "blurry" not in rendered.text
    assert rendered.negative is None
    assert rendered.negative_sent is False


@pytest.mark.parametrize("model_id", FLUX1)
def test_flux1_receives_prose_without_the_negative(model_id: str) -> None:
    rendered = render_for_model(_prompt(), model_id)

    assert rendered.family == "flux1"
    assert rendered.prompt_format == "text"
    assert rendered.structured is None
    assert rendered.text.startswith("A lighthouse on a cliff at dusk.")
    assert "Style: oil painting." in rendered.text
    assert '"HOLD FAST"' in rendered.text
    assert "Avoid" not in rendered.text and "blurry" not in rendered.text
    assert rendered.negative_sent is False


def test_diffusion_models_get_the_negative_as_its_own_field() -> None:
    rendered = render_for_model(_prompt(), "stabilityai/stable-diffusion-xl-base-1.0")

    assert rendered.family == "diffusion"
    assert rendered.negative == "blurry, watermark"
    assert rendered.negative_sent is True
    assert "blurry" not in rendered.text


def test_chat_image_models_read_the_negative_as_an_instruction() -> None:
    rendered = render_for_model(_prompt(), "google/gemini-2.5-flash-image-preview")

    assert rendered.family == "chat"
    assert rendered.text.endswith("Avoid: blurry, watermark.")
    assert rendered.negative is None
    assert rendered.negative_sent is True


def test_offline_preview_gets_the_canonical_json_without_negative() -> None:
    rendered = render_for_model(_prompt(), OFFLINE_MODEL_ID)

    assert rendered.family == "offline"
    assert rendered.structured is not None
    assert rendered.structured["text_render"] == [
        {"text": "HOLD FAST", "position": "bottom center"}
    ]
    assert "negative" not in rendered.structured
    assert json.loads(rendered.text) == rendered.structured


def test_the_analyzers_bookkeeping_is_not_sent_to_the_preview() -> None:
    analyzed = {**_prompt(), "meta": {"measurements": {"width": 1200}, "source": "local"}}
    rendered = render_for_model(analyzed, OFFLINE_MODEL_ID)

    assert rendered.structured is not None
    assert "meta" not in rendered.structured
    assert "measurements" not in rendered.text
    assert rendered.structured["text_render"] == [
        {"text": "HOLD FAST", "position": "bottom center"}
    ]


def test_an_empty_prompt_still_renders_for_the_offline_preview() -> None:
    assert render_for_model({}, OFFLINE_MODEL_ID).text == "{}"


def test_no_negative_in_the_prompt_means_none_sent_anywhere() -> None:
    data = _prompt()
    del data["negative"]
    for model_id in ("stabilityai/stable-diffusion-xl-base-1.0", "google/gemini-2.5-flash-image"):
        rendered = render_for_model(data, model_id)
        assert rendered.negative is None and rendered.negative_sent is False
        assert "Avoid" not in rendered.text


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("fal-ai/flux-2/pro", "flux2"),
        ("black-forest-labs/flux.2-klein", "flux2"),
        ("black-forest-labs/FLUX.1-dev", "flux1"),
        ("fal-ai/fast-sdxl", "diffusion"),
        ("openai/gpt-5-image", "chat"),
        ("acme/painter-9000", "prose"),
        ("  black-forest-labs/FLUX.2-dev  ", "flux2"),
    ],
)
def test_new_models_of_a_known_family_render_like_it(model_id: str, family: str) -> None:
    assert family_of(model_id).family == family


def test_unknown_models_get_prose_and_no_negative() -> None:
    rendered = render_for_model(_prompt(), "acme/painter-9000")
    assert rendered.prompt_format == "text"
    assert rendered.negative_sent is False and "Avoid" not in rendered.text


def test_same_prompt_sends_the_same_bytes_whatever_the_key_order() -> None:
    data = _prompt()
    shuffled = dict(reversed(list(data.items())))
    for model_id in (*FLUX2[:1], OFFLINE_MODEL_ID):
        assert render_for_model(data, model_id).text == render_for_model(shuffled, model_id).text


@pytest.mark.parametrize("model_id", ["", "   ", None, 42, "a b", "x\x00y", "m" * 201])
def test_nonsense_model_ids_are_refused_clearly(model_id: object) -> None:
    with pytest.raises(InvalidInputError, match="model"):
        render_for_model(_prompt(), model_id)  # type: ignore[arg-type]


@pytest.mark.parametrize("prompt", [None, "a cat", ["scene"], 3])
def test_a_prompt_that_is_not_an_object_is_refused(prompt: object) -> None:
    with pytest.raises(InvalidInputError, match="JSON object"):
        render_for_model(prompt, FLUX2[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("model_id", [FLUX2[0], FLUX1[0], "google/gemini-2.5-flash-image"])
def test_a_prompt_with_nothing_to_draw_is_refused_for_real_models(model_id: str) -> None:
    with pytest.raises(InvalidInputError, match="nothing to draw"):
        render_for_model({"negative": "blur", "scene": 5, "subjects": "x"}, model_id)


def test_odd_fields_are_skipped_not_fatal() -> None:
    data = {"scene": "A cat", "subjects": [None, 3, {"description": "tabby"}], "style": "bold"}
    assert render_for_model(data, FLUX1[0]).text.startswith("A cat. Subjects: tabby.")
    assert json.loads(render_for_model(data, FLUX2[0]).text)["subjects"] == [
        {"description": "tabby"}
    ]


def test_the_offline_preview_takes_odd_prompts_as_they_are() -> None:
    odd = {"scene": 5, "subjects": "x", "negative": "no"}
    rendered = render_for_model(odd, OFFLINE_MODEL_ID)
    assert json.loads(rendered.text) == {"scene": 5, "subjects": "x"}

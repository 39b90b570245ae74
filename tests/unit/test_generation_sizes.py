"""Aspect presets and custom ratios to pixel sizes, per model budget."""

from __future__ import annotations

import pytest

from app.services.core.errors import InvalidInputError
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.sizes import (
    ASPECT_PRESETS,
    MEGAPIXEL,
    ImageSize,
    aspect_label,
    budget_for,
    orientation,
    parse_aspect,
    size_for,
)

MODELS = [
    "black-forest-labs/FLUX.2-dev",
    "black-forest-labs/FLUX.1.1-pro",
    "fal-ai/flux-pro/v1.1-ultra",
    "fal-ai/flux/schnell",
    OFFLINE_MODEL_ID,
]


@pytest.mark.parametrize("model_id", MODELS)
@pytest.mark.parametrize("aspect", [*ASPECT_PRESETS, "5:4", "2.39:1", "1:3"])
def test_every_size_is_multiples_of_16_in_budget_and_keeps_the_ratio(
    model_id: str, aspect: str
) -> None:
    size = size_for(aspect, model_id=model_id)
    budget = budget_for(model_id)
    w, h = parse_aspect(aspect)

    assert size.width % 16 == 0 and size.height % 16 == 0
    assert size.width * size.height <= budget.megapixels * MEGAPIXEL
    assert max(size.width, size.height) <= budget.max_side
    assert abs(size.width / size.height - w / h) / (w / h) <= 0.02
    # Close to the budget: no more than a fifth of it wasted.
    assert size.width * size.height >= 0.8 * min(
        budget.megapixels * MEGAPIXEL, budget.max_side**2 * min(w / h, h / w)
    )


def test_known_sizes_for_a_one_megapixel_model() -> None:
    model = "black-forest-labs/FLUX.2-dev"
    assert size_for("1:1", model_id=model) == ImageSize(1024, 1024)
    assert size_for("16:9", model_id=model) == ImageSize(1360, 768)
    assert size_for("9:16", model_id=model) == ImageSize(768, 1360)
    assert size_for("21:9", model_id=model) == ImageSize(1536, 656)


def test_portrait_is_landscape_turned() -> None:
    for model_id in MODELS:
        wide = size_for("4:3", model_id=model_id)
        tall = size_for("3:4", model_id=model_id)
        assert (tall.width, tall.height) == (wide.height, wide.width)


def test_ultra_gets_more_pixels_than_schnell() -> None:
    ultra = size_for("1:1", model_id="fal-ai/flux-pro/v1.1-ultra")
    schnell = size_for("1:1", model_id="fal-ai/flux/schnell")
    assert ultra.width * ultra.height > 3 * schnell.width * schnell.height


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16:9", (16.0, 9.0)),
        (" 4 : 3 ", (4.0, 3.0)),
        ("16x9", (16.0, 9.0)),
        ("2.39:1", (2.39, 1.0)),
    ],
)
def test_aspect_spellings_people_use(text: str, expected: tuple[float, float]) -> None:
    assert parse_aspect(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0:1", "more than zero"),
        ("16:0", "more than zero"),
        ("-16:9", "not an aspect ratio"),
        ("16:-9", "not an aspect ratio"),
        ("100:1", "too stretched"),
        ("1:100", "too stretched"),
        ("99999:1", "too stretched"),
        ("wide", "not an aspect ratio"),
        ("16/9", "not an aspect ratio"),
        ("16:9:1", "not an aspect ratio"),
        ("1e3:1", "not an aspect ratio"),
        ("nan:1", "not an aspect ratio"),
        ("inf:1", "not an aspect ratio"),
        ("１６:９", "not an aspect ratio"),
        ("", "Choose an aspect ratio"),
        ("   ", "Choose an aspect ratio"),
        (None, "Choose an aspect ratio"),
        (16, "Choose an aspect ratio"),
        ("1" * 30 + ":1", "too long"),
    ],
)
def test_nonsense_aspects_get_a_clear_message(text: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        size_for(text, model_id="black-forest-labs/FLUX.2-dev")


def test_a_blank_model_id_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="model"):
        size_for("1:1", model_id=" ")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("1920:1080", "16:9"),
        ("16:9", "16:9"),
        ("2.39:1", "2.39:1"),
        ("1:2.5", "1:2.5"),
        ("1999:1000", "2:1"),
        ("1000:1999", "1:2"),
    ],
)
def test_aspect_labels_fit_the_prompt_schema(text: str, label: str) -> None:
    assert aspect_label(text) == label


def test_size_names_its_preset() -> None:
    assert ImageSize(1360, 768).aspect == "16:9"
    assert ImageSize(1536, 656).aspect == "21:9"
    assert ImageSize(1000, 800).aspect == "5:4"


def test_orientation_words_match_the_schema() -> None:
    assert [orientation(3, 2), orientation(2, 3), orientation(5, 5)] == [
        "landscape",
        "portrait",
        "square",
    ]

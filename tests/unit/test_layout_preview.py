"""The offline layout preview: a composition board drawn from the JSON prompt."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.services.analyzer.vision.ocr import read_text
from app.services.core.errors import InvalidInputError
from app.services.generation.layout_preview import (
    LABEL,
    draw_board,
    palette_bands,
    place,
    render_preview,
)
from tests.utils.prompt_factories import prompt_data

NAVY, AMBER, CREAM = (0x1B, 0x2A, 0x49), (0xE8, 0xA3, 0x3D), (0xF4, 0xEF, 0xE6)


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _lighthouse(**fields: object) -> dict:
    data = prompt_data(
        "A lighthouse on a cliff at dusk",
        subjects=[{"description": "white lighthouse", "position": "left third"}],
        color_palette=[
            {"hex": "#1b2a49", "proportion": 0.5},
            {"hex": "#e8a33d", "proportion": 0.3},
            {"hex": "#F4EFE6"},
        ],
        composition={"aspect_ratio": "16:9"},
        text_render=[{"text": "HOLD FAST", "position": "bottom center"}],
    )
    data.update(fields)
    return data


def test_the_board_has_the_prompts_aspect_ratio_or_the_chosen_one() -> None:
    png, size = render_preview(_lighthouse())
    assert _open(png).size == (size.width, size.height) == (960, 544)

    png, size = render_preview(_lighthouse(), aspect="9:16")
    assert _open(png).size == (544, 960)

    png, size = render_preview(_lighthouse(composition={"aspect_ratio": "nonsense"}))
    assert size.width == size.height


def test_palette_bands_follow_the_proportions() -> None:
    image = _open(draw_board(_lighthouse(subjects=[], text_render=[]), width=1000, height=400))

    # Bands run left to right: 50% navy, 30% amber, the rest (20%) cream.
    assert image.getpixel((100, 100)) == NAVY
    assert image.getpixel((490, 100)) == NAVY
    assert image.getpixel((510, 100)) == AMBER
    assert image.getpixel((790, 100)) == AMBER
    assert image.getpixel((810, 100)) == CREAM
    assert image.getpixel((990, 100)) == CREAM


def test_a_palette_without_proportions_gets_equal_bands() -> None:
    bands = palette_bands([{"hex": "#000000"}, {"hex": "#ffffff"}, {"hex": "#ff0000"}])
    assert [round(b.share, 3) for b in bands] == [0.333, 0.333, 0.333]


def test_bad_colours_are_skipped_and_no_palette_draws_neutral_bands() -> None:
    bands = palette_bands(
        [{"hex": "red"}, {"hex": "#12345"}, 5, {"hex": "#00ff00", "proportion": 7}]
    )
    assert [b.color for b in bands] == [(0, 255, 0)]
    neutral = palette_bands("not a list")
    assert len(neutral) == 2 and all(b.color[0] > 150 for b in neutral)


def test_a_subject_is_drawn_where_its_position_says() -> None:
    data = _lighthouse(color_palette=[{"hex": "#1b2a49"}], text_render=[])
    image = _open(draw_board(data, width=900, height=600))

    # "left third": the box sits over x = 300 and lightens the navy there; the right stays navy.
    assert image.getpixel((300, 330)) != NAVY
    assert image.getpixel((600, 330)) == NAVY

    data["subjects"] = [{"description": "boat", "position": "lower right"}]
    image = _open(draw_board(data, width=900, height=600))
    assert image.getpixel((720, 430)) != NAVY
    assert image.getpixel((300, 330)) == NAVY


def test_composition_subject_position_places_the_first_subject() -> None:
    data = _lighthouse(
        color_palette=[{"hex": "#1b2a49"}],
        text_render=[],
        subjects=[{"description": "tree"}],
        composition={"subject_position": "right"},
    )
    image = _open(draw_board(data, width=900, height=600))
    assert image.getpixel((720, 300)) != NAVY
    assert image.getpixel((180, 300)) == NAVY


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("left third", (1 / 3, None)),
        ("upper right", (0.8, 0.25)),
        ("center foreground", (0.5, 0.68)),
        ("on the horizon", (None, 0.5)),
        ("somewhere", (None, None)),
    ],
)
def test_position_words(words: str, expected: tuple[float | None, float | None]) -> None:
    assert place(words) == expected


def test_same_prompt_and_seed_give_the_same_bytes() -> None:
    data = _lighthouse(subjects=[{"description": "gull"}, {"description": "boat"}])
    first = draw_board(data, width=640, height=480, seed=7)
    assert draw_board(data, width=640, height=480, seed=7) == first
    # The seed places subjects the prompt leaves open, so another seed moves them.
    assert draw_board(data, width=640, height=480, seed=8) != first


def test_the_seed_never_moves_a_subject_with_a_stated_position() -> None:
    data = _lighthouse()
    assert draw_board(data, width=640, height=480, seed=1) == draw_board(
        data, width=640, height=480, seed=2
    )


def test_label_and_text_lines_are_readable_on_the_image() -> None:
    png, _ = render_preview(_lighthouse())
    lines = read_text(np.asarray(_open(png)))
    # OCR sometimes drops the space between two words, so compare without spaces.
    found = "|".join("".join(line.text.split()) for line in lines)

    assert "HOLDFAST" in found
    assert "Layoutpreview" in found and "notagenerativemodel" in found
    assert "16:9" in found
    assert LABEL.startswith("Layout preview — not a generative model")


def test_an_empty_prompt_still_draws_a_labelled_board() -> None:
    png, size = render_preview({})
    image = _open(png)
    assert image.size == (size.width, size.height)
    found = "|".join("".join(line.text.split()) for line in read_text(np.asarray(image)))
    assert "Nothingtolayoutyet" in found
    assert "notagenerativemodel" in found


def test_odd_fields_are_skipped() -> None:
    odd = {
        "scene": 12,
        "subjects": [None, "x", {"description": None, "position": ["left"]}, {"position": "top"}],
        "color_palette": {"hex": "#000000"},
        "composition": [],
        "text_render": [{"text": ""}, {"text": 5}, "HELLO", {"text": "ok", "position": 3}],
        "negative": {"a": 1},
    }
    assert _open(draw_board(odd, width=320, height=240)).size == (320, 240)


def test_nasty_text_and_many_items_still_fit() -> None:
    data = _lighthouse(
        subjects=[{"description": "x" * 5000, "position": "center"} for _ in range(40)],
        text_render=[{"text": "\x00\x1b[31mRED\u202e" + "W" * 3000} for _ in range(30)],
        color_palette=[{"hex": f"#{i:06x}"} for i in range(200)],
    )
    assert _open(draw_board(data, width=128, height=128)).size == (128, 128)
    assert _open(draw_board(data, width=2048, height=2048)).size == (2048, 2048)


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (0, 100, "width"),
        (-5, 200, "width"),
        (127, 200, "width"),
        (200, 5000, "height"),
        (200.0, 200, "width"),
        (True, 200, "width"),
        ("200", 200, "width"),
    ],
)
def test_nonsense_sizes_are_refused(width: object, height: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        draw_board({}, width=width, height=height)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [1.5, "7", None, True])
def test_nonsense_seeds_are_refused(seed: object) -> None:
    with pytest.raises(InvalidInputError, match="seed"):
        draw_board({}, width=200, height=200, seed=seed)  # type: ignore[arg-type]


def test_huge_seeds_are_fine() -> None:
    assert draw_board({}, width=200, height=200, seed=2**80) == draw_board(
        {}, width=200, height=200, seed=2**80
    )


@pytest.mark.parametrize("prompt", [None, "scene", [1, 2]])
def test_a_prompt_that_is_not_an_object_is_refused(prompt: object) -> None:
    with pytest.raises(InvalidInputError, match="JSON object"):
        render_preview(prompt)  # type: ignore[arg-type]


def test_a_nonsense_aspect_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="too stretched"):
        render_preview({}, aspect="40:1")


def test_the_main_subject_is_drawn_on_top_of_later_ones() -> None:
    data = _lighthouse(
        color_palette=[{"hex": "#1b2a49"}],
        text_render=[],
        subjects=[
            {"description": "MAIN", "position": "center"},
            {"description": "OTHER", "position": "center"},
        ],
    )
    png, _ = render_preview(data, aspect="1:1")
    found = "|".join(line.text for line in read_text(np.asarray(_open(png))))
    assert "1.MAIN" in found.replace(" ", "")
    assert "OTHER" not in found

"""The round trip's fidelity score: images drawn to match (or miss) a prompt, part by part."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.services.analyzer.vision import analyze_image
from app.services.analyzer.vision.colour import delta_e_2000
from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.generation.fidelity import (
    FidelityScore,
    average_fidelity,
    score_fidelity,
)
from app.services.generation.fidelity_positions import region_for
from app.services.library.prompts import PromptValidationError
from tests.utils.images import png_bomb, truncated_jpeg
from tests.utils.vision_images import encode, photo_jpeg

NAVY, RED, SUN = "#1b2a4a", "#d62828", "#f6d32d"

PROMPT: dict[str, Any] = {
    "schema_version": "1.0",
    "scene": "A summer sale poster: a yellow sun over a navy sky and a red sea.",
    "subjects": [
        {"description": "a yellow sun", "type": "object", "position": "upper left"},
        {"description": 'the words "SUMMER SALE"', "type": "text", "position": "bottom center"},
    ],
    "style": {"medium": "graphic design"},
    "color_palette": [
        {"hex": NAVY, "name": "navy", "proportion": 0.6},
        {"hex": RED, "name": "red", "proportion": 0.35},
        {"hex": SUN, "name": "yellow", "proportion": 0.05},
    ],
    "lighting": {},
    "composition": {"aspect_ratio": "16:9", "subject_position": "upper left"},
    "text_render": [{"text": "SUMMER SALE", "position": "bottom center"}],
}


@cache
def poster(
    size: tuple[int, int] = (640, 360),
    bands: tuple[tuple[str, float], ...] = ((NAVY, 0.6), (RED, 0.4)),
    text: str = "SUMMER SALE",
    suns: tuple[tuple[float, float], ...] = ((0.2, 0.25),),
) -> bytes:
    """Colour bands top to bottom, yellow discs at the given centres, text near the bottom."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top = 0
    for colour, share in bands:
        draw.rectangle((0, top, width, top + round(height * share)), fill=colour)
        top += round(height * share)
    radius = min(size) // 8
    for cx, cy in suns:
        x, y = cx * width, cy * height
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=SUN)
    if text:
        try:
            font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
                "DejaVuSans-Bold.ttf", min(size) // 9
            )
        except OSError:
            font = ImageFont.load_default(size=min(size) // 9)
        draw.text((width / 2, height * 0.85), text, fill="white", font=font, anchor="mm")
    return encode(image)


@cache
def _scored(image: bytes) -> FidelityScore:
    return score_fidelity(image, PROMPT)


def parts(result: FidelityScore) -> dict[str, int]:
    return {part.name: part.score for part in result.parts}


def test_an_image_drawn_to_match_the_prompt_scores_high_on_every_part() -> None:
    result = _scored(poster())
    assert set(parts(result)) == {"palette", "aspect", "text", "composition", "subjects"}
    assert all(score >= 85 for score in parts(result).values()), result
    assert result.score is not None and result.score >= 90
    assert abs(sum(part.weight for part in result.parts) - 1) < 1e-3
    text = next(part for part in result.parts if part.name == "text")
    assert "SUMMER SALE" in text.explanation


def test_a_mismatching_image_scores_clearly_lower_and_every_part_drops() -> None:
    good = _scored(poster())
    bad = _scored(
        poster(
            size=(480, 640),  # 3:4, not 16:9
            bands=(("#9acd32", 0.5), ("#f7a8c4", 0.5)),  # lime and pink, not navy and red
            text="",
            suns=((0.75, 0.75), (0.25, 0.5)),  # two suns, the first at the bottom right
        )
    )
    assert good.score is not None and bad.score is not None
    assert bad.score <= good.score - 50, (good, bad)
    good_parts, bad_parts = parts(good), parts(bad)
    for name in good_parts:
        assert bad_parts[name] <= good_parts[name] - 30, (name, good, bad)


@pytest.mark.parametrize(
    ("changed", "image"),
    [
        ("palette", {"bands": (("#2e8b57", 0.6), ("#b8a9e0", 0.4))}),
        ("aspect", {"size": (400, 400)}),
        ("text", {"text": "WINTER"}),
        ("composition", {"suns": ((0.8, 0.25),)}),
        ("subjects", {"suns": ((0.2, 0.25), (0.8, 0.3), (0.55, 0.25))}),
    ],
)
def test_each_part_answers_to_its_own_aspect_of_the_image(
    changed: str, image: dict[str, Any]
) -> None:
    """One thing wrong at a time: its part drops, the others stay high."""
    baseline = parts(_scored(poster()))
    result = parts(_scored(poster(**image)))
    assert result[changed] <= baseline[changed] - 40, (changed, result)
    others = {name: score for name, score in result.items() if name != changed}
    if changed == "subjects":
        others.pop("composition")  # the biggest sun is still the first, but others pull nothing
    assert all(score >= 80 for score in others.values()), (changed, result)


def test_text_is_compared_fuzzily_a_typo_costs_less_than_other_words() -> None:
    typo = parts(_scored(poster(text="SUMMER SAEL")))["text"]
    other = parts(_scored(poster(text="WINTER")))["text"]
    assert other < typo < parts(_scored(poster()))["text"]
    assert typo >= 70


def test_text_ignores_case_and_spacing_ocr_cannot_be_sure_of() -> None:
    prompt = copy.deepcopy(PROMPT)
    prompt["text_render"] = [{"text": "summer  sale!"}]
    assert parts(score_fidelity(poster(), prompt))["text"] >= 95


def test_parts_the_prompt_says_nothing_about_are_left_out_and_weights_renormalised() -> None:
    prompt = copy.deepcopy(PROMPT)
    prompt["color_palette"] = []
    prompt["subjects"] = []
    del prompt["text_render"]
    result = score_fidelity(poster(), prompt)
    assert [part.name for part in result.parts] == ["aspect", "composition"]
    assert [part.weight for part in result.parts] == [pytest.approx(0.2 / 0.35, abs=1e-3)] + [
        pytest.approx(0.15 / 0.35, abs=1e-3)
    ]
    weighted = sum(part.weight * part.score for part in result.parts)
    assert result.score == pytest.approx(weighted, abs=1)
    # A prompt without text is not punished by an image without text either.
    assert score_fidelity(poster(text=""), prompt).score == result.score


def test_a_prompt_naming_nothing_checkable_has_no_score_and_says_why() -> None:
    prompt = {
        "schema_version": "1.0",
        "scene": "Something calm.",
        "subjects": [],
        "style": {},
        "color_palette": [],
        "lighting": {},
        "composition": {"framing": "frame within a frame"},
    }
    result = score_fidelity(poster(), prompt)
    assert result.score is None and result.parts == ()
    assert "names no colours" in result.notes[0]
    assert average_fidelity([result]).score is None


def test_palette_shares_count_when_the_prompt_gives_them() -> None:
    mostly_red = poster(bands=((NAVY, 0.1), (RED, 0.9)))
    with_shares = parts(_scored(mostly_red))["palette"]
    assert with_shares <= parts(_scored(poster()))["palette"] - 25
    # Without shares the prompt only says which colours appear, and they all do.
    prompt = copy.deepcopy(PROMPT)
    for colour in prompt["color_palette"]:
        del colour["proportion"]
    assert parts(score_fidelity(mostly_red, prompt))["palette"] >= 90


def test_a_shade_off_scores_between_exact_and_another_colour() -> None:
    exact = parts(_scored(poster()))["palette"]
    near = parts(_scored(poster(bands=(("#26365c", 0.6), ("#c42424", 0.4)))))["palette"]
    far = parts(_scored(poster(bands=(("#2e8b57", 0.6), ("#b8a9e0", 0.4)))))["palette"]
    assert far < near < exact


def test_people_are_counted_as_faces_in_a_photograph() -> None:
    photo = photo_jpeg("astronaut")
    prompt = analyze_image(photo)
    # The analyzer's own description of a photo is a faithful one.
    result = score_fidelity(photo, prompt)
    assert result.score is not None and result.score >= 90, result
    assert parts(result)["subjects"] == 100
    crowd = copy.deepcopy(prompt)
    crowd["subjects"] = [{"description": f"person {i}", "type": "person"} for i in range(3)]
    subjects = next(p for p in score_fidelity(photo, crowd).parts if p.name == "subjects")
    assert subjects.score == 33
    assert "lists 3; found 1 face" in subjects.explanation


def test_the_score_is_deterministic() -> None:
    assert score_fidelity(poster(), PROMPT).to_dict() == _scored(poster()).to_dict()


@pytest.mark.parametrize("prompt", [None, [], "a red car", 42, {}, {"scene": "x"}])
def test_a_prompt_that_is_not_a_valid_prompt_is_refused_clearly(prompt: object) -> None:
    with pytest.raises(PromptValidationError) as caught:
        score_fidelity(poster(), prompt)
    assert caught.value.message.startswith("The prompt has")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        poster()[:200],
        truncated_jpeg(),
    ],
)
def test_bytes_that_are_not_an_image_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(InvalidImageError) as caught:
        score_fidelity(data, PROMPT)
    assert "image" in caught.value.message


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(ImageTooLargeError):
        score_fidelity(png_bomb(), PROMPT)


def test_odd_prompt_values_leave_their_part_out_instead_of_failing() -> None:
    prompt = copy.deepcopy(PROMPT)
    prompt["composition"] = {"aspect_ratio": "0:9", "subject_position": "on the horizon"}
    prompt["text_render"] = [{"text": "!!!"}, {"text": "  -  "}]
    prompt["color_palette"] = [{"hex": "#1B2A4A"}, {"hex": "#D62828", "proportion": 0}]
    result = score_fidelity(poster(), prompt)
    assert [part.name for part in result.parts] == ["palette", "composition", "subjects"]
    assert parts(result)["palette"] >= 90  # upper-case hex codes, no usable shares: by presence
    # "On the horizon" places nothing, so the main subject's own position is checked instead.
    composition = next(part for part in result.parts if part.name == "composition")
    assert '"upper left"' in composition.explanation and composition.score == 100


def test_a_one_pixel_image_gets_a_low_but_sensible_score() -> None:
    result = score_fidelity(encode(Image.new("RGB", (1, 1), NAVY)), PROMPT)
    assert result.score is not None and 0 <= result.score <= 50
    assert parts(result)["aspect"] == 0 and parts(result)["text"] == 0
    assert all(0 <= part.score <= 100 for part in result.parts)


def test_average_over_a_prompt_versions_images() -> None:
    good, bad = _scored(poster()), _scored(poster(size=(400, 400), text=""))
    empty = FidelityScore(score=None, parts=())
    average = average_fidelity([good, bad, empty])
    assert average.images == 2
    assert good.score is not None and bad.score is not None
    assert average.score == pytest.approx((good.score + bad.score) / 2, abs=0.05)
    assert average.parts["aspect"] == pytest.approx((parts(good)["aspect"] + 0) / 2, abs=0.05)
    assert average_fidelity([]).score is None


def test_to_dict_is_plain_json() -> None:
    data = _scored(poster()).to_dict()
    assert data["version"] == "fidelity-1"
    assert {"name", "label", "score", "weight", "explanation"} <= set(data["parts"][0])


# CIEDE2000 reference pairs from Sharma, Wu & Dalal (2005), table 1.
@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
        ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_the_published_reference_pairs(
    lab1: tuple[float, float, float], lab2: tuple[float, float, float], expected: float
) -> None:
    got = float(delta_e_2000(np.array(lab1), np.array(lab2)))
    assert got == pytest.approx(expected, abs=1e-4)
    assert float(delta_e_2000(np.array(lab2), np.array(lab1))) == pytest.approx(got)


@pytest.mark.parametrize(
    ("words", "x", "y"),
    [
        ("lower right", (2 / 3, 1.0), (2 / 3, 1.0)),
        ("top center", (1 / 3, 2 / 3), (0.0, 1 / 3)),
        ("center left", (0.0, 1 / 3), (1 / 3, 2 / 3)),
        ("Centered", (1 / 3, 2 / 3), (1 / 3, 2 / 3)),
        ("left third", (0.0, 1 / 3), None),
    ],
)
def test_position_words_become_regions(
    words: str, x: tuple[float, float] | None, y: tuple[float, float] | None
) -> None:
    region = region_for(words)
    assert region is not None and region.x == x and region.y == y


def test_position_words_that_place_nothing_give_no_region() -> None:
    assert region_for("on the horizon line") is None
    assert region_for("") is None

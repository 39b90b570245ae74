"""The offline refinement agent: understood edits change the right fields; others are refused."""

from __future__ import annotations

import pytest

from app.services.analyzer.refine_rules import refine
from app.services.core.errors import InvalidInputError
from app.services.demo.images import demo_catalog, describe_demo
from app.services.library.diff import diff
from app.services.library.prompts import validate_prompt


@pytest.fixture(scope="module")
def sunset() -> dict:
    scene = next(s for s in demo_catalog() if "sunset" in s.slug)
    return describe_demo(scene, scene.draw())


def test_make_it_night_changes_light_and_palette_and_stays_valid(sunset: dict) -> None:
    result = refine(sunset, "Make it night")
    assert result.data["lighting"]["key"] == "low-key"
    assert "night" in result.data["lighting"]["conditions"]
    assert result.data["color_palette"] != sunset["color_palette"]
    assert "at night" in result.data["scene"]
    assert validate_prompt(result.data) == []
    paths = {c.path for c in diff(sunset, result.data)}
    assert "lighting.key" in paths and "scene" in paths
    assert "night" not in sunset["lighting"].get("conditions", "")


def test_remove_drops_matching_subjects_and_adds_a_negative(sunset: dict) -> None:
    boat = [s for s in sunset["subjects"] if "boat" in s["description"]]
    assert boat, "the sunset demo has a boat"
    result = refine(sunset, "remove the boat")
    assert not [s for s in result.data["subjects"] if "boat" in s["description"]]
    assert "boat" in result.data["negative"]
    assert validate_prompt(result.data) == []


def test_film_look_and_aspect_ratio_together(sunset: dict) -> None:
    result = refine(sunset, "35mm film look, widescreen 16:9")
    assert result.data["camera"]["lens"] == "35mm"
    assert "film" in result.data["style"]["medium"]
    assert result.data["composition"]["aspect_ratio"] == "16:9"
    assert len(result.changes) == 2
    assert validate_prompt(result.data) == []


def test_black_and_white_makes_the_palette_grey(sunset: dict) -> None:
    result = refine(sunset, "black and white please")
    for entry in result.data["color_palette"]:
        h = entry["hex"]
        assert h[1:3] == h[3:5] == h[5:7]


@pytest.mark.parametrize("text", ["", "   ", "make it feel like a rainy tuesday in my heart"])
def test_unknown_or_empty_edits_are_refused_clearly(sunset: dict, text: str) -> None:
    with pytest.raises(InvalidInputError) as e:
        refine(sunset, text)
    assert "night" in e.value.message  # says what it understands


def test_diff_reports_added_removed_and_changed() -> None:
    old = {"a": 1, "b": [1, 2], "c": {"d": "x"}}
    new = {"a": 2, "b": [1], "c": {"d": "x", "e": True}, "f": "new"}
    changes = {(c.path, c.op) for c in diff(old, new)}
    assert changes == {("a", "changed"), ("b[1]", "removed"), ("c.e", "added"), ("f", "added")}
    assert diff(old, old) == []


def test_diff_of_a_long_sentence_shows_what_was_appended() -> None:
    old = "A graphic design poster of the words OPEN DAILY in the center, in warm tones"
    (change,) = diff({"scene": old}, {"scene": old + ", at night"})
    assert change.new.endswith(", at night") and change.new.startswith("…")
    assert len(change.new) < len(old)

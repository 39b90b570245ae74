"""repair_json and coerce_to_schema: fix what is unambiguous, say so, invent nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.services.analyzer import jsonrepair as jr
from app.services.analyzer.jsonrepair import coerce_to_schema, repair_json
from app.services.core.errors import InvalidOutputError, ProviderError
from app.services.library.prompts import load_schema, validate_prompt
from tests.utils.fakes.openai_server import VALID_CONTENT, VALID_PROMPT


def test_valid_json_needs_no_notes() -> None:
    assert repair_json(VALID_CONTENT) == (VALID_PROMPT, [])
    assert repair_json("  \n" + VALID_CONTENT + "\n") == (VALID_PROMPT, [])


@pytest.mark.parametrize(
    ("text", "expected", "notes"),
    [
        (
            'Sure! Here it is:\n```json\n{"a": 1}\n```\nEnjoy.',
            {"a": 1},
            [jr.FENCED],
        ),
        ('```\n{"a": 1}', {"a": 1}, [jr.FENCED]),  # an unclosed fence
        ('The prompt: {"a": 1} - done.', {"a": 1}, [jr.BEFORE, jr.AFTER]),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}, [jr.TRAILING_COMMAS]),
        ("{'a': 'x', 'b': ['y']}", {"a": "x", "b": ["y"]}, [jr.SINGLE_QUOTES]),
        (
            '{"a": True, "b": False, "c": None}',
            {"a": True, "b": False, "c": None},
            [jr.PYTHON_WORDS],
        ),
        (
            '{\n  // the scene\n  "a": 1, /* inline */ "b": 2 # trailing\n}',
            {"a": 1, "b": 2},
            [jr.COMMENTS],
        ),
        ('{"a": {"b": 1}}}}', {"a": {"b": 1}}, [jr.EXTRA_CLOSERS]),
        ('{"a": [1, 2}, "b": 3}', {"a": [1, 2], "b": 3}, [jr.MISMATCHED]),
        ('{"a": 1 "b": 2}', {"a": 1, "b": 2}, [jr.MISSING_COMMAS]),
        ('{a: 1, b_c: "x"}', {"a": 1, "b_c": "x"}, [jr.BARE_KEYS]),
        ('{"a": "he said "hi" there"}', {"a": 'he said "hi" there'}, [jr.STRAY_QUOTES]),
        ("{'a': 'don't'}", {"a": "don't"}, [jr.SINGLE_QUOTES, jr.STRAY_QUOTES]),
        ('{"a": +1, "b": .5, "c": 2.}', {"a": 1, "b": 0.5, "c": 2.0}, [jr.NUMBERS]),
        ('{"a": 1,, "b": 2}', {"a": 1, "b": 2}, [jr.EXTRA_COMMAS]),
        ('{"a" 1}', {"a": 1}, [jr.MISSING_COLON]),
    ],
)
def test_repairs_say_what_they_did(text: str, expected: dict[str, Any], notes: list[str]) -> None:
    assert repair_json(text) == (expected, notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"scene": "A sea", "subjects": [{"description": "a bo',
            {"scene": "A sea", "subjects": [{"description": "a bo"}]},
        ),
        ('{"scene": "A sea", "mood": tru', {"scene": "A sea"}),
        ('{"scene": "A sea", "n": 12', {"scene": "A sea"}),  # 12 may have been 125
        (
            '{"scene": "A sea", "lighting": {"key": "low-key", "dire',
            {"scene": "A sea", "lighting": {"key": "low-key"}},
        ),
        ('{"scene": "A sea", "mood":', {"scene": "A sea"}),
    ],
)
def test_a_cut_off_answer_keeps_what_arrived_and_drops_the_rest(
    text: str, expected: dict[str, Any]
) -> None:
    data, notes = repair_json(text)
    assert data == expected
    assert jr.CUT_OFF in notes


def test_escapes_are_decoded_and_unknown_ones_kept() -> None:
    data, _ = repair_json("{'a': '\\u00e9 \\ud83d\\ude00 \\q \\n'}")
    assert data == {"a": "é \U0001f600 \\q \n"}


@pytest.mark.parametrize(
    "text",
    ["", "   ", "I could not analyse this image.", "[1, 2, 3]", '{"a": @}', '"just a string"'],
)
def test_nothing_usable_raises_a_user_facing_error(text: str) -> None:
    with pytest.raises(InvalidOutputError) as caught:
        repair_json(text)
    assert isinstance(caught.value, ProviderError)
    assert "Try again" in caught.value.message


def test_deep_nesting_does_not_crash() -> None:
    with pytest.raises(InvalidOutputError):
        repair_json("{'a': " + "[" * 5000)


def test_repair_round_trips_every_valid_document() -> None:
    for doc in (VALID_PROMPT, {"a": {"b": [1, {"c": None}]}, "d": 'e"f'}):
        for text in (json.dumps(doc), "```json\n" + json.dumps(doc, indent=4) + "\n```"):
            assert repair_json(text)[0] == doc


# -- coerce_to_schema ------------------------------------------------------------------------


def test_coercion_fixes_unambiguous_type_slips_against_the_prompt_schema() -> None:
    messy = {
        "schema_version": 1.0,
        "scene": "A sea",
        "subjects": {"description": "boat", "type": "Object"},
        "style": {"medium": "photo", "artists": "Monet"},
        "color_palette": [
            {"hex": "E8A33D", "proportion": "0.4"},
            {"hex": "#FA0"},
            {"hex": "#1D3557"},
        ],
        "lighting": {"contrast": "High", "key": "Low Key", "color_temperature_k": "5500"},
        "composition": {"rule_of_thirds": "TRUE", "aspect_ratio": " 16:9 ", "symmetry": "none"},
        "camera": None,
        "tags": ["Sunset", " sea"],
    }

    data, notes = coerce_to_schema(messy, load_schema())

    assert validate_prompt(data) == []
    assert data["schema_version"] == "1.0"
    assert data["subjects"] == [{"description": "boat", "type": "object"}]
    assert data["style"]["artists"] == ["Monet"]
    assert [c["hex"] for c in data["color_palette"]] == ["#e8a33d", "#ffaa00", "#1d3557"]
    assert data["color_palette"][0]["proportion"] == 0.4
    assert data["lighting"] == {"contrast": "high", "key": "low-key", "color_temperature_k": 5500}
    assert data["composition"]["rule_of_thirds"] is True
    assert data["composition"]["aspect_ratio"] == "16:9"
    assert "camera" not in data
    assert data["tags"] == ["sunset", "sea"]
    assert messy["subjects"] == {"description": "boat", "type": "Object"}  # input untouched
    assert "subjects: put the single value in a list." in notes
    assert 'color_palette[0].hex: changed "E8A33D" to "#e8a33d".' in notes
    assert "camera: removed an empty (null) value." in notes
    assert len(notes) == 16


def test_coercion_leaves_what_it_cannot_be_sure_of() -> None:
    doubtful = {
        "scene": "",  # empty stays empty: filling it would be inventing
        "subjects": [{"description": "x", "type": "vehicle"}],  # not an enum value
        "color_palette": [{"hex": "orange"}],  # a name is not a hex code
        "lighting": {"contrast": "very", "color_temperature_k": "warm"},
        "composition": {"rule_of_thirds": "maybe"},
        "camera": {"focal_length_mm": "50mm"},
        "unknown_field": None,
    }
    data, notes = coerce_to_schema(doubtful, load_schema())
    assert data == doubtful
    assert notes == []


def test_coercion_follows_refs_and_required_fields() -> None:
    schema = {
        "type": "object",
        "required": ["must"],
        "properties": {
            "must": {"type": "string"},
            "maybe": {"type": ["integer", "null"]},
            "count": {"type": "integer"},
            "ratio": {"$ref": "#/$defs/ratio"},
            "items": {"type": "array", "items": {"type": "number"}},
        },
        "$defs": {"ratio": {"type": "number"}},
    }
    data, notes = coerce_to_schema(
        {"must": None, "maybe": None, "count": "3", "ratio": "0.5", "items": "2"}, schema
    )
    assert data == {"must": None, "maybe": None, "count": 3, "ratio": 0.5, "items": [2.0]}
    assert len(notes) == 4  # count, ratio, the list, and the item in it

"""The canonical prompt schema: what it accepts, and how it explains what it refuses."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.services.core.errors import InvalidInputError
from app.services.library.prompts import (
    SCHEMA_VERSION,
    FieldError,
    PromptValidationError,
    assert_valid_prompt,
    format_path,
    load_schema,
    render_prose,
    validate_prompt,
)


def full_prompt() -> dict[str, Any]:
    """A prompt that uses every field the schema defines."""
    return {
        "schema_version": "1.0",
        "scene": "A lighthouse on a rocky point at dusk, waves breaking below",
        "subjects": [
            {
                "type": "object",
                "description": "a white lighthouse with a red lantern room",
                "position": "right third",
                "action": "sweeping its beam",
            },
            {
                "type": "person",
                "description": "a keeper in a yellow raincoat",
                "position": "lower left",
                "action": "walking toward the tower",
                "pose": "leaning into the wind",
                "expression": "determined",
                "clothing": "yellow raincoat and rubber boots",
            },
        ],
        "style": {
            "medium": "photograph",
            "genre": "seascape",
            "artists": ["Ansel Adams"],
            "references": ["1970s travel posters"],
            "rendering": "fine film grain",
        },
        "color_palette": [
            {"hex": "#1b2a4a", "name": "navy", "proportion": 0.5},
            {"hex": "#F28C28", "name": "orange", "proportion": 0.3},
            {"hex": "#ffffff", "proportion": 0.2},
        ],
        "lighting": {
            "conditions": "dusk",
            "direction": "back",
            "shadows": "long soft shadows",
            "contrast": "high",
            "color_temperature_k": 3200,
            "key": "low-key",
        },
        "mood": "lonely, watchful",
        "background": "a stormy sky",
        "composition": {
            "aspect_ratio": "16:9",
            "orientation": "landscape",
            "framing": "wide",
            "subject_position": "right third",
            "rule_of_thirds": True,
            "symmetry": "none",
        },
        "camera": {
            "angle": "low angle",
            "lens": "wide-angle",
            "focal_length_mm": 24,
            "aperture": 8,
            "depth_of_field": "deep",
            "shot_type": "wide shot",
        },
        "text_render": [{"text": "KEEP OUT", "position": "on the gate", "style": "stencil"}],
        "negative": "people on the rocks, watermark",
        "tags": ["lighthouse", "dusk", "sea storm"],
        "meta": {"heuristic_fields": ["lighting.key"], "source": "local", "model": "anything"},
    }


def errors_at(data: object, path: str) -> list[FieldError]:
    return [e for e in validate_prompt(data) if e.path == path]


def only_error(data: object) -> FieldError:
    errors = validate_prompt(data)
    assert len(errors) == 1, errors
    return errors[0]


# --- the schema file itself ----------------------------------------------------------------


def test_schema_is_valid_draft_2020_12_and_pins_the_version() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION == "1.0"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {
        "schema_version",
        "scene",
        "subjects",
        "style",
        "color_palette",
        "lighting",
        "composition",
    }


def _properties(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}".lstrip("."), prop
        yield from _properties(prop, f"{path}.{name}")
        if isinstance(prop.get("items"), dict):
            yield f"{path}.{name}[]".lstrip("."), prop["items"]
            yield from _properties(prop["items"], f"{path}.{name}[]")
    for name, sub in schema.get("$defs", {}).items():
        yield f"$defs.{name}", sub
        yield from _properties(sub, f"$defs.{name}")


def test_every_property_has_help_text_and_every_number_has_bounds() -> None:
    props = list(_properties(load_schema()))
    assert len(props) > 50
    for path, prop in props:
        if "$ref" in prop:
            continue
        assert prop.get("title"), f"{path} has no title"
        assert prop.get("description"), f"{path} has no description"
        if prop.get("type") in ("number", "integer"):
            assert "minimum" in prop and "maximum" in prop, f"{path} has no bounds"


def test_load_schema_returns_a_copy() -> None:
    load_schema()["properties"].clear()
    assert "scene" in load_schema()["properties"]
    assert validate_prompt(full_prompt()) == []


# --- accepting --------------------------------------------------------------------------------


def test_a_full_prompt_is_valid() -> None:
    prompt = full_prompt()
    assert validate_prompt(prompt) == []
    assert assert_valid_prompt(prompt) is prompt


def test_a_minimal_prompt_is_valid() -> None:
    minimal = {
        "schema_version": "1.0",
        "scene": "An abstract pattern",
        "subjects": [],
        "style": {},
        "color_palette": [],
        "lighting": {},
        "composition": {},
    }
    assert validate_prompt(minimal) == []


def test_meta_is_free_form() -> None:
    prompt = full_prompt()
    prompt["meta"] = {"source": "openrouter", "anything": {"nested": [1, 2]}, "cost": 0.01}
    assert validate_prompt(prompt) == []


# --- refusing, with readable messages ---------------------------------------------------------


def test_missing_required_field() -> None:
    prompt = full_prompt()
    del prompt["scene"]
    error = only_error(prompt)
    assert error.path == "scene"
    assert error.keyword == "required"
    assert error.message.startswith("Scene is missing.")


def test_missing_required_field_inside_a_list_item() -> None:
    prompt = full_prompt()
    del prompt["subjects"][1]["description"]
    error = only_error(prompt)
    assert error.path == "subjects[1].description"
    assert "Description is missing" in error.message


def test_several_missing_fields_are_each_reported() -> None:
    paths = {e.path for e in validate_prompt({"schema_version": "1.0"})}
    assert paths == {"scene", "subjects", "style", "color_palette", "lighting", "composition"}


def test_bad_hex_colour() -> None:
    prompt = full_prompt()
    prompt["color_palette"][0]["hex"] = "navy"
    error = only_error(prompt)
    assert error.path == "color_palette[0].hex"
    assert error.keyword == "pattern"
    assert error.message == (
        'Hex color must be # followed by six hexadecimal digits, like #e8a33d (got "navy").'
    )


@pytest.mark.parametrize("bad", ["#fff", "#12345g", "1b2a4a", "#1b2a4a "])
def test_hex_must_be_exactly_six_hex_digits(bad: str) -> None:
    prompt = full_prompt()
    prompt["color_palette"][2]["hex"] = bad
    assert [e.path for e in validate_prompt(prompt)] == ["color_palette[2].hex"]


def test_proportion_above_one() -> None:
    prompt = full_prompt()
    prompt["color_palette"][1]["proportion"] = 1.5
    error = only_error(prompt)
    assert error.path == "color_palette[1].proportion"
    assert error.message == "Proportion must be at most 1 (got 1.5)."


def test_unknown_top_level_key() -> None:
    prompt = full_prompt()
    prompt["colour_palette"] = []
    error = only_error(prompt)
    assert error.path == "colour_palette"
    assert error.keyword == "additionalProperties"
    assert '"colour_palette" is not a field of the prompt' in error.message
    assert "meta" in error.message  # tells the user where free-form data may go


def test_unknown_nested_key() -> None:
    prompt = full_prompt()
    prompt["lighting"]["colour"] = "warm"
    error = only_error(prompt)
    assert error.path == "lighting.colour"
    assert '"colour" is not a field of Lighting' in error.message


def test_wrong_schema_version() -> None:
    prompt = full_prompt()
    prompt["schema_version"] = "2.0"
    error = only_error(prompt)
    assert error.path == "schema_version"
    assert error.message == 'Schema version must be "1.0" (got "2.0").'


def test_wrong_type_for_an_object_field() -> None:
    prompt = full_prompt()
    prompt["lighting"] = "bright"
    error = only_error(prompt)
    assert error.path == "lighting"
    assert error.keyword == "type"
    assert error.message == "Lighting must be a group of fields, not text."


def test_wrong_type_for_a_number_field() -> None:
    prompt = full_prompt()
    prompt["camera"]["focal_length_mm"] = "50mm"
    error = only_error(prompt)
    assert error.path == "camera.focal_length_mm"
    assert error.message == "Focal length (mm) must be a number, not text."


def test_true_is_not_a_number() -> None:
    prompt = full_prompt()
    prompt["lighting"]["color_temperature_k"] = True
    assert errors_at(prompt, "lighting.color_temperature_k")[0].keyword == "type"


def test_enum_lists_the_choices() -> None:
    prompt = full_prompt()
    prompt["lighting"]["contrast"] = "extreme"
    error = only_error(prompt)
    assert error.path == "lighting.contrast"
    assert error.message == 'Contrast must be one of: low, medium, high (got "extreme").'


def test_number_below_its_minimum() -> None:
    prompt = full_prompt()
    prompt["lighting"]["color_temperature_k"] = 500
    error = only_error(prompt)
    assert error.message == "Color temperature (K) must be at least 1000 (got 500)."


def test_empty_scene() -> None:
    prompt = full_prompt()
    prompt["scene"] = ""
    assert only_error(prompt).message == "Scene must not be empty."


def test_tags_must_be_lowercase_and_unique() -> None:
    prompt = full_prompt()
    prompt["tags"] = ["Sunset", "sea", "sea"]
    by_path = {e.path: e for e in validate_prompt(prompt)}
    assert set(by_path) == {"tags", "tags[0]"}
    assert "lowercase" in by_path["tags[0]"].message
    assert by_path["tags"].message == "Tags must not contain the same entry twice."


def test_aspect_ratio_format() -> None:
    prompt = full_prompt()
    prompt["composition"]["aspect_ratio"] = "wide"
    error = only_error(prompt)
    assert error.path == "composition.aspect_ratio"
    assert "like 16:9" in error.message


def test_a_prompt_that_is_not_an_object() -> None:
    error = only_error(["scene"])
    assert error.path == ""
    assert error.message == "The prompt must be a group of fields, not a list."


def test_errors_are_unique_and_stable() -> None:
    prompt = full_prompt()
    prompt["lighting"]["contrast"] = "extreme"
    prompt["color_palette"][0]["hex"] = "x"
    prompt["unknown"] = 1
    first = validate_prompt(prompt)
    assert first == validate_prompt(copy.deepcopy(prompt))
    assert len(first) == len(set(first)) == 3


# --- raising ----------------------------------------------------------------------------------


def test_assert_valid_prompt_raises_a_user_facing_error_with_every_field_error() -> None:
    prompt = full_prompt()
    del prompt["scene"]
    prompt["lighting"]["contrast"] = "extreme"
    with pytest.raises(PromptValidationError) as caught:
        assert_valid_prompt(prompt)
    exc = caught.value
    assert isinstance(exc, InvalidInputError)
    assert exc.status_code == 422
    assert {e.path for e in exc.field_errors} == {"scene", "lighting.contrast"}
    assert exc.message.startswith("The prompt has 2 problems: ")
    assert "lighting.contrast: Contrast must be one of" in exc.message


def test_long_error_summaries_are_cut_short() -> None:
    with pytest.raises(PromptValidationError) as caught:
        assert_valid_prompt({})
    assert caught.value.message.startswith("The prompt has 7 problems: ")
    assert caught.value.message.endswith("…and 2 more.")


def test_format_path() -> None:
    assert format_path(["subjects", 0, "description"]) == "subjects[0].description"
    assert format_path(["lighting", "key"]) == "lighting.key"
    assert format_path([]) == ""


# --- prose ------------------------------------------------------------------------------------


def test_prose_mentions_the_scene_and_the_negative() -> None:
    text = render_prose(full_prompt())
    assert text.startswith("A lighthouse on a rocky point at dusk, waves breaking below.")
    assert text.endswith("Avoid: people on the rocks, watermark.")
    assert "a keeper in a yellow raincoat" in text
    assert "wearing yellow raincoat and rubber boots" in text
    assert "Lighting: dusk, from the back, long soft shadows, high contrast, around 3200 K" in text
    assert "navy (#1b2a4a, 50%)" in text
    assert "#ffffff (20%)" in text
    assert 'Text in the image: "KEEP OUT" (on the gate, stencil).' in text
    assert "24 mm" in text and "f/8" in text
    assert "16:9 landscape" in text and "rule of thirds" in text


def test_prose_skips_missing_and_malformed_fields() -> None:
    text = render_prose({"scene": "just a scene", "lighting": "bright", "subjects": [1, {}]})
    assert text == "Just a scene."
    assert render_prose({}) == ""

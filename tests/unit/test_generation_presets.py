"""Style presets on the generate page: the editor's presets, shown as a diff before they apply."""

from __future__ import annotations

import pytest

from app.services.core.errors import InvalidInputError
from app.services.generation.presets import (
    STYLE_PRESETS,
    find_style_preset,
    preview_style,
    slug,
)
from app.services.library.prompts import PromptValidationError, validate_prompt
from app.services.library.tools.presets import PresetInfo
from tests.utils.prompt_factories import prompt_data


def test_presets_cover_style_lighting_camera_but_not_aspect() -> None:
    categories = {p.category for p in STYLE_PRESETS}
    assert {"style", "lighting", "camera"} <= categories
    assert "aspect_ratio" not in categories
    for preset in STYLE_PRESETS:
        composition = preset.data.get("composition", {})
        assert "aspect_ratio" not in composition and "orientation" not in composition


def test_a_preset_changes_the_prompt_and_lists_every_change() -> None:
    before = prompt_data("A harbour", lighting={"conditions": "noon sun"})

    preview = preview_style(before, "film-noir")

    assert preview.prompt["style"]["genre"] == "film noir"
    assert preview.prompt["lighting"]["conditions"] == "hard single key light"
    assert preview.prompt["mood"] == "tense and mysterious"
    paths = {c.path: c for c in preview.changes}
    assert paths["lighting.conditions"].op == "changed"
    assert paths["lighting.conditions"].old == "noon sun"
    assert paths["mood"].op == "added"
    assert preview.preset_id == "builtin:style/film-noir"
    assert validate_prompt(preview.prompt) == []
    # Nothing was applied to the person's prompt: the diff is shown first.
    assert before["lighting"] == {"conditions": "noon sun"} and "mood" not in before


def test_cinematic_keeps_the_aspect_the_person_picked() -> None:
    before = prompt_data("A road", composition={"aspect_ratio": "4:3"})

    preview = preview_style(before, "Cinematic")

    assert preview.prompt["composition"]["aspect_ratio"] == "4:3"
    assert all(not c.path.startswith("composition") for c in preview.changes)


def test_the_chosen_aspect_goes_into_the_prompt_and_the_diff() -> None:
    preview = preview_style(prompt_data("A road"), None, aspect="1920:1080")

    assert preview.prompt["composition"] == {"aspect_ratio": "16:9", "orientation": "landscape"}
    assert {c.path for c in preview.changes} == {
        "composition.aspect_ratio",
        "composition.orientation",
    }
    assert preview.preset_id is None
    portrait = preview_style(prompt_data("A road"), None, aspect="2:3")
    assert portrait.prompt["composition"]["orientation"] == "portrait"


def test_no_preset_and_no_aspect_changes_nothing() -> None:
    before = prompt_data("A road")
    assert preview_style(before, None).changes == []


def test_a_users_own_preset_works_too() -> None:
    own = PresetInfo("user:3", "Mine", "lighting", {"lighting": {"key": "high-key"}}, False)
    preview = preview_style(prompt_data("A road"), own)
    assert preview.prompt["lighting"]["key"] == "high-key"
    assert preview.preset_id == "user:3"


@pytest.mark.parametrize(
    "name", ["watercolor", "WATERCOLOR", " Watercolor ", "builtin:style/watercolor"]
)
def test_presets_are_found_by_slug_name_or_id(name: str) -> None:
    assert find_style_preset(name).id == "builtin:style/watercolor"


def test_every_preset_has_a_unique_slug() -> None:
    slugs = [slug(p) for p in STYLE_PRESETS]
    assert len(slugs) == len(set(slugs))


@pytest.mark.parametrize("name", ["vaporwave", "builtin:aspect_ratio/16-9", "x" * 5000, "16-9"])
def test_unknown_presets_say_which_exist(name: str) -> None:
    with pytest.raises(InvalidInputError, match="Choose one of: watercolor") as caught:
        find_style_preset(name)
    assert len(caught.value.message) < 500


@pytest.mark.parametrize("name", ["", "  ", 7])
def test_blank_preset_names_are_refused(name: object) -> None:
    with pytest.raises(InvalidInputError, match="Choose a style preset"):
        preview_style(prompt_data("A road"), name)  # type: ignore[arg-type]


def test_a_bad_aspect_is_refused_before_anything_applies() -> None:
    with pytest.raises(InvalidInputError, match="too stretched"):
        preview_style(prompt_data("A road"), "anime", aspect="50:1")


def test_a_prompt_that_breaks_the_schema_is_refused_field_by_field() -> None:
    broken = prompt_data("A road", lighting={"contrast": "extreme"})
    with pytest.raises(PromptValidationError) as caught:
        preview_style(broken, "anime")
    assert [e.path for e in caught.value.field_errors] == ["lighting.contrast"]


@pytest.mark.parametrize("prompt", [None, "A road", [1]])
def test_a_prompt_that_is_not_an_object_is_refused(prompt: object) -> None:
    with pytest.raises(InvalidInputError, match="JSON object"):
        preview_style(prompt, "anime")  # type: ignore[arg-type]

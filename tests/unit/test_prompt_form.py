"""The guided form model: schema-driven fields, string round trips, edits by path."""

from __future__ import annotations

import pytest

from app.services.demo.images import demo_catalog, describe_demo
from app.services.library.prompts import validate_prompt
from app.state import prompt_form as pf


@pytest.fixture(scope="module")
def data() -> dict:
    scene = demo_catalog()[0]
    return describe_demo(scene, scene.draw())


def test_groups_come_from_the_schema() -> None:
    groups = {g.key: g for g in pf.form_groups()}
    assert {"scene", "subjects", "lighting", "color_palette", "camera", "tags"} <= set(groups)
    assert "meta" not in groups and "schema_version" not in groups
    lighting = {f.path: f for f in groups["lighting"].fields}
    assert lighting["lighting.key"].kind == "enum"
    assert lighting["lighting.key"].options == ("low-key", "mid-key", "high-key")
    assert lighting["lighting.color_temperature_k"].kind == "number"
    assert lighting["lighting.color_temperature_k"].minimum == 1000
    palette = {f.path: f for f in groups["color_palette"].fields}
    assert palette["color_palette[].hex"].kind == "hex"
    assert all(f.help for g in groups.values() for f in g.fields)  # help text from the schema


def test_edits_coerce_by_schema_and_stay_valid(data: dict) -> None:
    edited = pf.set_value(data, "lighting.color_temperature_k", "4200")
    assert edited["lighting"]["color_temperature_k"] == 4200
    edited = pf.set_value(edited, "composition.rule_of_thirds", "true")
    assert edited["composition"]["rule_of_thirds"] is True
    edited = pf.set_value(edited, "tags", "a, b ,, c")
    assert edited["tags"] == ["a", "b", "c"]
    assert validate_prompt(edited) == []
    assert data["tags"] != ["a", "b", "c"]  # the input dict is never mutated


def test_clearing_an_optional_field_removes_it(data: dict) -> None:
    assert "mood" not in pf.set_value(data, "mood", "   ")
    bad = pf.set_value(data, "lighting.color_temperature_k", "warm-ish")
    assert bad["lighting"]["color_temperature_k"] == "warm-ish"
    errors = pf.error_map(validate_prompt(bad))
    assert "lighting.color_temperature_k" in errors


def test_list_items_add_edit_move_remove(data: dict) -> None:
    n = len(data["subjects"])
    added = pf.add_item(data, "subjects")
    assert len(added["subjects"]) == n + 1
    named = pf.set_item(added, "subjects", n, "description", "a gull")
    moved = pf.move_item(named, "subjects", n, -1)
    assert moved["subjects"][n - 1]["description"] == "a gull"
    removed = pf.remove_item(moved, "subjects", n - 1)
    assert [s["description"] for s in removed["subjects"]] == [
        s["description"] for s in data["subjects"]
    ]
    assert pf.move_item(data, "subjects", 0, -1) == data  # out of range: unchanged
    assert pf.set_item(data, "subjects", 99, "description", "x") == data
    assert pf.set_value(data, "no.such.path", "x") == data


def test_flatten_round_trips_what_inputs_show(data: dict) -> None:
    values, lists = pf.flatten(data)
    assert values["scene"] == data["scene"]
    assert values["tags"] == ", ".join(data["tags"])
    assert [i["hex"] for i in lists["color_palette"]] == [c["hex"] for c in data["color_palette"]]
    errors = pf.error_map(validate_prompt({**data, "subjects": [{"type": "person"}]}))
    assert any(k.startswith("subjects.0") for k in errors)

"""Response models derived from service dataclasses (app/api/models.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from pydantic import Field

from app.api.models import fields_of


@dataclass(frozen=True)
class Part:
    name: str


@dataclass(frozen=True)
class Thing:
    id: int
    made_at: datetime
    note: str | None = None
    parts: tuple[Part, ...] = ()
    secret: str = ""


class PartOut(fields_of(Part)):  # type: ignore[misc]
    pass


class ThingOut(fields_of(Thing, exclude=("secret",))):  # type: ignore[misc]
    parts: list[PartOut] = Field(description="Every part, in order")


def test_a_response_model_has_the_dataclass_fields_in_order_all_required() -> None:
    schema = ThingOut.model_json_schema(mode="serialization")
    assert list(schema["properties"]) == ["id", "made_at", "note", "parts"]
    assert schema["required"] == ["id", "made_at", "note", "parts"]
    assert schema["properties"]["parts"]["description"] == "Every part, in order"
    assert schema["title"] == "ThingOut"


def test_a_response_model_takes_the_dataclass_values_and_drops_excluded_ones() -> None:
    thing = Thing(id=1, made_at=datetime(2026, 1, 2), parts=(Part("a"),), secret="hide")
    out = ThingOut(**{**vars(thing), "parts": [vars(p) for p in thing.parts]})
    assert out.model_dump() == {
        "id": 1,
        "made_at": datetime(2026, 1, 2),
        "note": None,
        "parts": [{"name": "a"}],
    }


def test_excluding_a_field_the_dataclass_lacks_is_a_mistake_said_at_import() -> None:
    with pytest.raises(ValueError, match="no field"):
        fields_of(Thing, exclude=("colour",))
    with pytest.raises(TypeError, match="not a dataclass"):
        fields_of(int)

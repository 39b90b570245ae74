"""Response models derived from the services' dataclasses, so a field is declared once.

`fields_of(Dataclass)` builds a pydantic base with the dataclass's fields (all required, as
every response carries them); the API subclasses it under its own schema name and may
re-annotate a field to add a description or to point a nested dataclass at its response model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any, get_type_hints

from pydantic import BaseModel, create_model


def fields_of(source: type[Any], *, exclude: Collection[str] = ()) -> type[BaseModel]:
    """A pydantic model with the fields of dataclass `source` (minus `exclude`), in its order.

    Defaults are dropped on purpose: a response always holds every field, and the OpenAPI
    schema says so (`required`)."""
    if not dataclasses.is_dataclass(source):
        raise TypeError(f"{source!r} is not a dataclass")
    hints = get_type_hints(source)
    unknown = set(exclude) - {f.name for f in dataclasses.fields(source)}
    if unknown:
        raise ValueError(f"{source.__name__} has no field(s) {sorted(unknown)}")
    spec: dict[str, Any] = {
        f.name: (hints[f.name], ...) for f in dataclasses.fields(source) if f.name not in exclude
    }
    return create_model(f"{source.__name__}Fields", **spec)

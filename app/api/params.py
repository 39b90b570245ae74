"""Input types every REST operation validates at the edge, before services or the database.

- Row ids are bounded by the database column: ids are INTEGER columns, 32 bits on PostgreSQL (the
  tighter of the two engines), so a larger number can't name a row and would crash the driver.
- Text must be storable: PostgreSQL refuses NUL characters in text, and a lone UTF-16 surrogate
  can't be encoded as UTF-8 by either engine (pydantic's JSON parser already refuses `"\\ud800"`;
  the check here also covers text that reaches a model another way).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_ID = 2**31 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


# A row id in the path: `prompt_id: PathId`.
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="The row's id")]


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def _storable(text: str) -> str:
    problem = _unstorable(text)
    if problem:
        raise ValueError(f"Text {problem}.")
    return text


# Text that both databases can store; use for every free-text query and form parameter.
Text = Annotated[str, AfterValidator(_storable)]

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    # pydantic would also read "0.5" as a Unix time; the schema promises ISO 8601 only.
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("Use an ISO 8601 date (2026-01-31) or date-time (2026-01-31T08:00:00Z).")
    return value


# A day or a moment, written in ISO 8601.
IsoDate = Annotated[date | datetime, BeforeValidator(_iso_only)]


def _check_tree(value: Any, where: str) -> None:
    if isinstance(value, str):
        problem = _unstorable(value)
        if problem:
            raise ValueError(f"{where or 'A value'} {problem}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_tree(key, f"{where}.{key!r}: the key" if where else "A key")
            _check_tree(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_tree(item, f"{where}[{i}]")


class RequestBody(BaseModel):
    """Base of every JSON request body: unknown fields are refused, every string is storable,
    including those nested inside free-form JSON (a prompt's `data`, a studio `spec`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_strings(cls, data: Any) -> Any:
        _check_tree(data, "")
        return data

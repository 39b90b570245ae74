"""JSON prompts: the canonical schema, its validation, and renderings for other models."""

from app.services.library.prompts.prose import render_prose
from app.services.library.prompts.schema import (
    SCHEMA_VERSION,
    FieldError,
    PromptValidationError,
    assert_valid_prompt,
    format_path,
    load_schema,
    summarize,
    validate_prompt,
)

__all__ = [
    "SCHEMA_VERSION",
    "FieldError",
    "PromptValidationError",
    "assert_valid_prompt",
    "format_path",
    "load_schema",
    "render_prose",
    "summarize",
    "validate_prompt",
]

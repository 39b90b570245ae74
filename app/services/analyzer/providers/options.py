"""Each provider's request options, as a typed pydantic model that refuses unknown names.

`ChatRequest.options` stays a plain mapping, so one request can go to any model; the model
it reaches parses it with its own `Options` class (`Model.Options.parse`) before any call,
and a bad option reads as an `InvalidInputError` that says what to send instead.

Values are strict: `true` is not a temperature and `"5"` is not a token count. A field's
`description` finishes the sentence "<name> must be ...", so the rule and its message are
written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.services.core.errors import InvalidInputError

ReasoningEffort = Literal["minimal", "low", "medium", "high"]


class Options(BaseModel):
    """Options every model takes: only hints for the app's own models."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # Hints are accepted by every model and never sent over the wire.
    HINTS: ClassVar[frozenset[str]] = frozenset({"task"})
    # Options other providers take, with what to tell someone who sends one here.
    ELSEWHERE: ClassVar[Mapping[str, str]] = {}

    # The offline analyzer routes on it ("describe" or "refine").
    task: str | None = Field(None, description="text")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        """The options, or InvalidInputError naming the first one that is wrong."""
        elsewhere = [name for name in raw if name in cls.ELSEWHERE]
        if elsewhere:
            raise InvalidInputError(cls.ELSEWHERE[elsewhere[0]])
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as e:
            raise InvalidInputError(cls._message(e)) from None

    @classmethod
    def known(cls) -> list[str]:
        """The option names a person may send (hints left out), sorted."""
        return sorted(set(cls.model_fields) - cls.HINTS)

    @classmethod
    def _message(cls, error: ValidationError) -> str:
        problems = error.errors()
        unknown = [str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden"]
        if unknown:
            known = cls.known()
            takes = f"Known options: {', '.join(known)}." if known else "This model takes none."
            return f"Unknown option {', '.join(sorted(unknown))}. {takes}"
        name = str(problems[0]["loc"][0])
        field = cls.model_fields.get(name)
        rule = field.description if field is not None and field.description else "valid"
        return f"{name} must be {rule}."


class ChatOptions(Options):
    """What any OpenAI-style `/chat/completions` endpoint takes."""

    temperature: float | None = Field(None, ge=0, le=2, description="a number from 0 to 2")
    top_p: float | None = Field(None, ge=0, le=1, description="a number from 0 to 1")
    max_tokens: int | None = Field(None, ge=1, description="a whole number of at least 1")
    seed: int | None = Field(None, ge=0, description="a whole number of at least 0")
    json_mode: bool | None = Field(None, description="true or false")
    reasoning_effort: ReasoningEffort | None = Field(
        None, description="one of minimal, low, medium, high"
    )


class OpenRouterOptions(ChatOptions):
    """OpenRouter also takes reasoning as an on/off switch or a token budget."""

    reasoning_enabled: bool | None = Field(None, description="true or false")
    reasoning_max_tokens: int | None = Field(None, ge=1, description="a whole number of at least 1")


_ONLY_EFFORT = (
    "This endpoint only takes reasoning_effort; reasoning_max_tokens and "
    "reasoning_enabled work with OpenRouter models."
)


class OpenAICompatibleOptions(ChatOptions):
    """OpenAI, Ollama, LM Studio, vLLM: reasoning only as an effort."""

    ELSEWHERE: ClassVar[Mapping[str, str]] = {
        "reasoning_max_tokens": _ONLY_EFFORT,
        "reasoning_enabled": _ONLY_EFFORT,
    }

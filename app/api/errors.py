"""The one error shape every REST answer uses, and the error statuses operations declare.

Every error is `{"detail": "<what went wrong and what to do>"}`; a 422 adds `errors` (one entry per
invalid field) and a 500 adds `error_id` (quote it to support). Routers declare the statuses
they can answer with `error_responses(...)`, so the OpenAPI schema says what each operation
really returns.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldErrorOut(BaseModel):
    field: str = Field(
        description="Where: `path.prompt_id`, `query.limit`, `title`, `data.scene`..."
    )
    message: str


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in words safe to show to a person")
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="422 only: each field that is not valid"
    )
    error_id: str | None = Field(
        default=None, description="500 only: the reference an admin can search the logs for"
    )


_DESCRIPTIONS: dict[int, str] = {
    400: "The request can't be carried out as sent (the detail says why)",
    401: "Not signed in: send a session token or API key as `Authorization: Bearer ...`",
    402: "Not enough credits",
    403: "Signed in, but not allowed",
    404: "Not found, or not yours",
    409: "Conflicts with the current state (the detail says how)",
    413: "The upload is too large",
    415: "Not an image this API can read",
    422: "The request is not valid: `errors` lists each field",
    429: "Too many requests, or a plan limit is reached; `Retry-After` may say when to try again",
    500: "Something went wrong on our side: `error_id` is the reference",
    502: "The model provider failed or gave no usable answer",
    503: "A service the operation needs is down or not configured",
    504: "The model provider did not answer in time",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the shared error model."""
    return {
        status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]} for status in statuses
    }


# Answers any operation can give: a body that isn't JSON (400), a request that fails
# validation (422), an unexpected error (500).
COMMON = error_responses(400, 422, 500)
# Operations that need a signed-in account (session token or API key).
SIGNED_IN = error_responses(401)
# Operations behind the admin role.
ADMIN = error_responses(401, 403)
# Operations on one resource named in the path.
ONE_RESOURCE = error_responses(404)
# Operations that call a model provider (the analyzer, AI image operations).
PROVIDER = error_responses(402, 429, 502, 503, 504)
# Operations that take an image or zip upload.
UPLOAD = error_responses(413, 415)

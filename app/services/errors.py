"""One error hierarchy for every service.

JSONCraftError
├── UserFacingError            message is safe to show to the person who caused it
│   ├── InvalidInputError      bad input: say what is wrong and how to fix it
│   │   ├── InvalidImageError  not an image, corrupt, truncated, unsupported format
│   │   ├── ImageTooLargeError too many pixels (decompression bomb) or too many bytes
│   │   └── WeakPasswordError
│   ├── AuthenticationError    wrong credentials, expired session (never says which)
│   │   └── TooManyAttemptsError  carries retry_after seconds
│   ├── PermissionDeniedError  signed in, but not allowed
│   ├── NotFoundError
│   └── ConflictError          e.g. the email is taken
└── InternalError              logged with its traceback; users see a generic message
    ├── ConfigurationError
    └── StorageError
"""

from __future__ import annotations

import uuid


class JSONCraftError(Exception):
    """Base of every error raised on purpose by JSONCraft."""


class UserFacingError(JSONCraftError):
    """An error whose message can be shown as it is."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(UserFacingError):
    status_code = 422


class InvalidImageError(InvalidInputError):
    status_code = 415


class ImageTooLargeError(InvalidInputError):
    status_code = 413


class WeakPasswordError(InvalidInputError):
    pass


class AuthenticationError(UserFacingError):
    status_code = 401


class TooManyAttemptsError(AuthenticationError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermissionDeniedError(UserFacingError):
    status_code = 403


class NotFoundError(UserFacingError):
    status_code = 404


class ConflictError(UserFacingError):
    status_code = 409


class InternalError(JSONCraftError):
    """Something went wrong on our side; details go to the log, not to the user."""


class ConfigurationError(InternalError):
    pass


class StorageError(InternalError):
    pass


def new_error_id() -> str:
    """A short id shown to the user and written to the log, so an admin can find the trace."""
    return uuid.uuid4().hex[:12]


def public_message(exc: BaseException, error_id: str) -> str:
    """The text a user may see for any exception."""
    if isinstance(exc, UserFacingError):
        return exc.message
    return f"Something went wrong on our side. Reference: {error_id}"

"""One error hierarchy for every service.

JSONCraftError
├── UserFacingError            message is safe to show to the person who caused it
│   ├── InvalidInputError      bad input: say what is wrong and how to fix it
│   │   ├── InvalidImageError  not an image, corrupt, truncated, unsupported format
│   │   ├── ImageTooLargeError too many pixels (decompression bomb) or too many bytes
│   │   ├── FileTooLargeError  a file over a project's or plan's size cap (413)
│   │   ├── UnsupportedTypeError  a file type the project does not accept (415)
│   │   ├── WeakPasswordError
│   │   ├── PromptValidationError  the prompt breaks the schema; carries each field's error
│   │   │                          (library/prompts/schema.py, beside FieldError)
│   │   └── BundleRejectedError    a readable bundle with invalid items; carries the report
│   │                              (library/bundles, beside ImportReport)
│   ├── AuthenticationError    wrong credentials, expired session (never says which)
│   │   ├── TooManyAttemptsError  carries retry_after seconds
│   │   └── GoogleSignInError     a refused Google sign-in; carries the code for the login URL
│   │                             (accounts/google_auth.py, beside the messages per code)
│   ├── PermissionDeniedError  signed in, but not allowed
│   ├── NotFoundError
│   ├── ConflictError          e.g. the email is taken
│   │   └── VersionConflictError  a save based on a stale version; carries the server's latest
│   ├── InsufficientCreditsError  the balance can't cover the cost (402); carries both
│   ├── PlanLimitError         a limit of the user's plan is reached (429): batch size, jobs,
│   │                          monthly uploads; may carry retry_after seconds
│   ├── BillingUnavailableError   payments are off (no Stripe keys) or Stripe is unreachable
│   ├── WebhookSignatureError     a webhook with a missing, forged or stale signature
│   └── ProviderError          a model provider failed; the message says what to do next
│       ├── UnknownModelError         no model by that name or alias in the registry
│       ├── MissingKeyError           the provider needs an API key that is not set
│       ├── ProviderAuthError         the provider refused our key (401/403)
│       ├── ProviderPaymentError      our account at the provider is out of credit (402)
│       ├── RateLimitedError          429; carries retry_after seconds (None if not sent)
│       ├── ModelNotFoundError        the provider does not offer that model (404)
│       ├── ProviderTimeoutError      no answer in time
│       ├── ProviderUnavailableError  5xx or a broken stream, after retries
│       ├── ContentRefusedError       the provider's safety filter refused the prompt or image
│       └── InvalidOutputError        the answer holds no usable JSON
└── InternalError              logged with its traceback; users see a generic message
    ├── ConfigurationError
    ├── StorageError
    ├── RetryableError         a failure worth another try (5xx, dropped connection); the
    │                          provider clients retry it, then raise a ProviderError
    ├── SmtpSendError          the SMTP server did not take an email; says if a retry can help
    │                          (notify/smtp.py)
    ├── LeaseLostError         another worker (or a cancellation) took the job over: stop
    │                          without writing
    └── PoolStoppedError       the process is stopping: images still running are abandoned,
                               not failed

Four classes live beside the data they carry (named above); every other one is here.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.services.core.tracing import current_trace_id


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


class FileTooLargeError(InvalidInputError):
    """A file larger than a cap; the message names the cap (project or plan) and its limit."""

    status_code = 413


class UnsupportedTypeError(InvalidInputError):
    """A file type that is refused; the message says which types are accepted."""

    status_code = 415


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


class VersionConflictError(ConflictError):
    """Someone saved a newer version first. Nothing was written: the caller gets the server's
    latest version number and data so the editor can show a diff and let the person merge."""

    def __init__(self, message: str, *, current_version: int, current_data: dict[str, Any]) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.current_data = current_data


class InsufficientCreditsError(UserFacingError):
    """The balance can't cover a paid action. Nothing was reserved or charged."""

    status_code = 402

    def __init__(self, *, balance: int, cost: int) -> None:
        super().__init__(
            f"That costs {cost} {_credits(cost)} and your balance is {balance} "
            f"{_credits(balance)}. Add credits or pick a cheaper option."
        )
        self.balance = balance
        self.cost = cost


class PlanLimitError(UserFacingError):
    """The user's plan does not allow this much at once (images per job, jobs at a time). The
    message names the limit and the plan; nothing was stored or charged. `retry_after` is the
    seconds until the limit resets, when known (a monthly quota: the start of next month)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _credits(n: int) -> str:
    return "credit" if n == 1 else "credits"


class ProviderError(UserFacingError):
    """A model provider failed. Status codes are ours, not the provider's: a 401 from
    OpenRouter means *our* key is wrong, which must not look like the user's session expired."""

    status_code = 502


class UnknownModelError(ProviderError):
    status_code = 422


class MissingKeyError(ProviderError):
    status_code = 503


class ProviderAuthError(ProviderError):
    status_code = 502


class ProviderPaymentError(ProviderError):
    status_code = 503


class RateLimitedError(ProviderError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelNotFoundError(ProviderError):
    status_code = 502


class ProviderTimeoutError(ProviderError):
    status_code = 504


class ProviderUnavailableError(ProviderError):
    status_code = 503


class ContentRefusedError(ProviderError):
    """The provider's safety checker refused the prompt or flagged every image it made."""

    status_code = 422


class InvalidOutputError(ProviderError):
    status_code = 502


class BillingUnavailableError(UserFacingError):
    """Payments are off (no Stripe keys) or Stripe could not be reached."""

    status_code = 503


class WebhookSignatureError(UserFacingError):
    """A webhook whose signature is missing, forged, made with another secret, or too old."""

    status_code = 400


class InternalError(JSONCraftError):
    """Something went wrong on our side; details go to the log, not to the user."""


class ConfigurationError(InternalError):
    pass


class StorageError(InternalError):
    pass


class RetryableError(InternalError):
    """A failure worth another try (5xx, dropped connection); never reaches users as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeaseLostError(InternalError):
    """Another worker (or a cancellation) took the job over; stop without writing."""


class PoolStoppedError(InternalError):
    """The process is stopping (stop_pools): images still running are abandoned, not failed."""


def new_error_id() -> str:
    """The reference shown to the user and written to the log: the trace id (32 hex) of the
    span recording now, so an admin finds the request's trace and log lines from it; a random
    id where nothing is traced (the CLI)."""
    return current_trace_id() or uuid.uuid4().hex[:12]


def public_message(exc: BaseException, error_id: str) -> str:
    """The text a user may see for any exception."""
    if isinstance(exc, UserFacingError):
        return exc.message
    return f"Something went wrong on our side. Reference: {error_id}"

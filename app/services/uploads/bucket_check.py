""" "Test connection" for a project's own bucket: put, head and delete a small object.

Each step reports what happened in words a developer can act on, with the store's error code
("SignatureDoesNotMatch", "NoSuchBucket"...). Messages never carry a key: the store's own
message is passed through a filter that blanks the saved keys, should a store echo them.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from app.services.core.errors import InvalidInputError
from app.services.core.models import Project, User, utcnow
from app.services.core.secret_box import open_secret
from app.services.core.storage import S3Storage
from app.services.uploads.buckets import is_private_host, storage_for_project
from app.services.uploads.ownership import get_owned_project
from app.settings import get_settings

STEPS = ("put", "head", "delete")
PROBE_BODY = b"JSONCraft connection test: safe to delete.\n"
PROBE_PREFIX = "jsoncraft-connection-test"

# The store's error codes that have one clear cause.
_EXPLAINED = {
    "SignatureDoesNotMatch": "The secret access key is wrong: the store refused our signature.",
    "InvalidAccessKeyId": "The store does not know this access key id.",
    "NoSuchBucket": "The bucket does not exist at this endpoint.",
    "AccessDenied": "The keys work, but may not do this in this bucket: check their policy.",
    "AuthorizationHeaderMalformed": "The region does not match the bucket's region.",
    "PermanentRedirect": "The bucket lives in another region or at another endpoint.",
    "InvalidBucketName": "The store refuses this bucket name.",
    "NoSuchKey": "The object just written could not be found: is the store consistent?",
    "RequestTimeTooSkewed": "This server's clock is too far from the store's.",
}


@dataclass(frozen=True)
class StepResult:
    step: str  # "put" | "head" | "delete"
    status: str  # "passed" | "failed" | "skipped"
    detail: str
    code: str = ""  # the store's error code when it failed


@dataclass(frozen=True)
class ConnectionReport:
    steps: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(step.status == "passed" for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((step for step in self.steps if step.status == "failed"), None)


def run_connection_test(session: Session, *, owner: User, project_id: int) -> ConnectionReport:
    """Run the three steps against the project's own bucket; a pass is remembered."""
    project = get_owned_project(session, owner=owner, project_id=project_id)
    if not project.bucket_name:
        raise InvalidInputError("This project uses the app's storage: save a bucket first.")
    report = check_connection(project)
    if report.ok:
        project.bucket_checked_at = utcnow()
        session.add(project)
        session.flush()
    return report


def check_connection(project: Project) -> ConnectionReport:
    storage = storage_for_project(project)
    assert isinstance(storage, S3Storage)
    secrets = _secrets(project)
    refused = _refused_endpoint(storage.endpoint_url)
    if refused:
        return _failed_at("put", refused, "EndpointRefused")
    key = f"{PROBE_PREFIX}/{uuid.uuid4().hex}.txt"
    client: Any = storage.client
    calls = {
        "put": lambda: client.put_object(
            Bucket=storage.bucket, Key=key, Body=PROBE_BODY, ContentType="text/plain"
        ),
        "head": lambda: client.head_object(Bucket=storage.bucket, Key=key),
        "delete": lambda: client.delete_object(Bucket=storage.bucket, Key=key),
    }
    passed = {
        "put": f"Wrote {len(PROBE_BODY)} bytes to {key}.",
        "head": "Read the object's metadata back.",
        "delete": "Deleted the test object.",
    }
    steps: list[StepResult] = []
    for name in STEPS:
        try:
            answer = calls[name]()
        except Exception as e:  # the report says what failed; nothing else is at stake here
            code, detail = _describe(e, secrets)
            steps.append(StepResult(name, "failed", detail, code))
            if name == "put":
                steps.extend(_skipped(after="put"))
                break
            continue
        detail = passed[name]
        if name == "head" and int(answer.get("ContentLength", -1)) != len(PROBE_BODY):
            steps.append(
                StepResult(
                    name, "failed", "The object read back has the wrong size.", "SizeMismatch"
                )
            )
            continue
        steps.append(StepResult(name, "passed", detail))
    return ConnectionReport(steps)


def _failed_at(step: str, detail: str, code: str) -> ConnectionReport:
    return ConnectionReport([StepResult(step, "failed", detail, code), *_skipped(after=step)])


def _skipped(*, after: str) -> list[StepResult]:
    rest = STEPS[STEPS.index(after) + 1 :]
    return [StepResult(name, "skipped", f"Not run: {after} failed.") for name in rest]


def _refused_endpoint(endpoint: str | None) -> str:
    """Why the endpoint may not be reached from here, or "" (an SSRF guard at request time:
    a public name may resolve to a private address)."""
    if not endpoint or get_settings().bucket_allow_private_endpoints:
        return ""
    host = urlsplit(endpoint).hostname or ""
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return f"The endpoint's host {host} could not be resolved."
    if any(is_private_host(str(info[4][0])) for info in infos):
        return f"The endpoint's host {host} resolves to a private address, which is refused."
    return ""


def _secrets(project: Project) -> list[str]:
    sealed = (project.bucket_access_key_enc, project.bucket_secret_key_enc)
    return [open_secret(token) for token in sealed if token]


def _describe(exc: Exception, secrets: list[str]) -> tuple[str, str]:
    """The store's error code and a sentence about it, with any key blanked out."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or "Error")
        if code in ("403", "Forbidden"):  # HEAD answers carry no body, hence no code
            code = "AccessDenied"
        if code in ("404", "NotFound"):
            code = "NoSuchKey"
        store_said = str(error.get("Message") or "").strip()
        explained = _EXPLAINED.get(code, "")
        detail = explained or f"The store answered {status or 'an error'}"
        if store_said and store_said not in detail:
            detail = f"{detail} (store: {store_said[:200]})"
    elif isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        code, detail = "ConnectionFailed", "Could not connect to the endpoint."
    elif isinstance(exc, ReadTimeoutError):
        code, detail = "Timeout", "The endpoint did not answer in time."
    else:
        code, detail = type(exc).__name__, "The request failed before reaching the store."
    for secret in secrets:
        if secret:
            detail = detail.replace(secret, "••••")
    return code, detail

"""Presign: check a request's files against the project's rules and the owner's plan, then
write one `pending` upload per file with the URL(s) the client PUTs it to.

Files up to MULTIPART_THRESHOLD get one presigned PUT; larger ones an S3 multipart upload with
one URL per part. Nothing is written unless every file passes.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.services.accounts.api_keys import KeyAuth
from app.services.billing.pricing import Plan, plan_limits
from app.services.core import rate_limits
from app.services.core.errors import (
    FileTooLargeError,
    InvalidInputError,
    NotFoundError,
    PlanLimitError,
    UnsupportedTypeError,
)
from app.services.core.models import Project, Upload, User, utcnow
from app.services.core.storage import MAX_PART_NUMBER
from app.services.core.units import format_bytes
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.file_types import (
    allowed_text,
    display_name,
    key_name,
    normalise_type,
    type_allowed,
)
from app.settings import get_settings

MiB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MiB  # files larger than this get a multipart upload
MIN_PART_SIZE = 5 * MiB  # S3's limits on a part (all but the last)
MAX_PART_SIZE = 5 * 1024 * MiB
DEFAULT_PART_SIZE = 8 * MiB
MAX_FILES_PER_REQUEST = 100  # the API's own ceiling, whatever a project allows


@dataclass(frozen=True)
class FileRequest:
    name: str
    size: int
    type: str


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class Multipart:
    upload_id: str
    part_size: int
    parts: list[PartUrl]


@dataclass(frozen=True)
class PresignedUpload:
    id: str
    key: str
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime
    multipart: Multipart | None = field(default=None)


def part_size_for(size: int) -> int:
    """Whole MiB, at least DEFAULT_PART_SIZE, large enough to stay within 10,000 parts."""
    needed = math.ceil(size / MAX_PART_NUMBER)
    part = max(DEFAULT_PART_SIZE, math.ceil(needed / MiB) * MiB)
    if part > MAX_PART_SIZE:
        raise FileTooLargeError("A file can be at most 10,000 parts of 5 GiB.")
    return part


def new_upload_id() -> str:
    return "up_" + secrets.token_hex(12)


def project_and_owner(session: Session, auth: KeyAuth) -> tuple[Project, User]:
    project = session.get(Project, auth.project_id)
    owner = session.get(User, project.owner_id) if project is not None else None
    if project is None or owner is None:
        raise NotFoundError("No such project.")
    return project, owner


def presign_uploads(
    session: Session, auth: KeyAuth, files: list[FileRequest]
) -> list[PresignedUpload]:
    """Check every file, count the request against the rate limit and the monthly quota, and
    answer one presigned upload per file (rows written `pending`, not yet committed)."""
    project, owner = project_and_owner(session, auth)
    plan = plan_limits(owner)
    _check_rate(project, plan)
    if not 1 <= len(files) <= min(project.max_files_per_upload, MAX_FILES_PER_REQUEST):
        raise InvalidInputError(
            f"Send 1 to {project.max_files_per_upload} files per request (this project's "
            f"max_files_per_upload); this request has {len(files)}."
        )
    checked = [_checked(project, plan, f) for f in files]
    _check_monthly_quota(session, owner, plan, adding=len(files))
    storage = storage_for_project(project)
    lifetime = get_settings().presign_expiry_seconds
    now = utcnow()
    expires_at = now + timedelta(seconds=lifetime)
    answers: list[PresignedUpload] = []
    for request, content_type in checked:
        upload_id = new_upload_id()
        key = f"p/{project.id}/{upload_id}/{key_name(request.name)}"
        row = Upload(
            id=upload_id,
            project_id=auth.project_id,
            api_key_id=auth.key_id,
            name=display_name(request.name)[:255],
            size=request.size,
            content_type=content_type,
            storage_key=key,
            url_expires_at=expires_at,
            created_at=now,
        )
        headers = {"Content-Type": content_type}
        if request.size > MULTIPART_THRESHOLD:
            part_size = part_size_for(request.size)
            count = math.ceil(request.size / part_size)
            multipart_id = storage.create_multipart(key, content_type=content_type)
            parts = [
                PartUrl(
                    n,
                    storage.presigned_part_url(
                        key, upload_id=multipart_id, part_number=n, expires_in=lifetime
                    ),
                )
                for n in range(1, count + 1)
            ]
            row.multipart_id, row.part_size, row.part_count = multipart_id, part_size, count
            answer = PresignedUpload(
                id=upload_id,
                key=key,
                url=parts[0].url,
                method="PUT",
                headers={},  # parts are bare bytes: S3 signs no type on a part
                expires_at=expires_at,
                multipart=Multipart(multipart_id, part_size, parts),
            )
        else:
            url = storage.presigned_put_url(key, content_type=content_type, expires_in=lifetime)
            answer = PresignedUpload(upload_id, key, url, "PUT", headers, expires_at)
        session.add(row)
        answers.append(answer)
    session.flush()
    return answers


def _checked(project: Project, plan: Plan, request: FileRequest) -> tuple[FileRequest, str]:
    name = display_name(request.name)
    if request.size < 1:
        raise InvalidInputError(f"{name}: a file's size must be at least 1 byte.")
    content_type = normalise_type(request.type)
    if request.size > project.max_file_size and project.max_file_size <= plan.max_upload_file_size:
        raise FileTooLargeError(
            f"{name} is {format_bytes(request.size)}; this project's max_file_size is "
            f"{format_bytes(project.max_file_size)}."
        )
    if request.size > plan.max_upload_file_size:
        raise FileTooLargeError(
            f"{name} is {format_bytes(request.size)}; the {plan.display_name} plan takes files "
            f"up to {format_bytes(plan.max_upload_file_size)}."
        )
    if not type_allowed(content_type, list(project.allowed_types)):
        raise UnsupportedTypeError(
            f"{name} is {content_type}; this project accepts "
            f"{allowed_text(list(project.allowed_types))}."
        )
    return request, content_type


def _check_rate(project: Project, plan: Plan) -> None:
    rule = rate_limits.Policy(
        {"project": plan.upload_rate},
        f"This project is limited to {plan.upload_rate} upload requests on the "
        f"{plan.display_name} plan. Try again in {{wait}}.",
    )
    rate_limits.check_rule(f"uploads:{plan.name}", rule, project=project.id)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


def uploads_this_month(session: Session, owner: User, *, now: datetime | None = None) -> int:
    """Files presigned this UTC month over all of the owner's projects."""
    since = month_start(now or utcnow())
    count: Any = session.exec(
        select(func.count())
        .select_from(Upload)
        .join(Project, col(Project.id) == col(Upload.project_id))
        .where(Project.owner_id == owner.id, col(Upload.created_at) >= since)
    ).one()
    return int(count)


def _check_monthly_quota(session: Session, owner: User, plan: Plan, *, adding: int) -> None:
    now = utcnow()
    used = uploads_this_month(session, owner, now=now)
    if used + adding > plan.monthly_uploads:
        left = max(0, plan.monthly_uploads - used)
        raise PlanLimitError(
            f"The {plan.display_name} plan takes {plan.monthly_uploads:,} uploads a month; "
            f"{used:,} are used and this request has {adding} ({left:,} left). "
            "The count resets on the 1st (UTC).",
            retry_after=max(1, math.ceil((next_month_start(now) - now).total_seconds())),
        )

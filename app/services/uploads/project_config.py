"""A project's upload rules: one validation for the dashboard form and `PATCH /api/projects/{id}`.

Types are MIME types or "type/*" wildcards (an empty list allows any type); sizes are bytes and
never above the owner's plan cap; files expire after N days or never; files are private (signed
links) or public-read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from app.services.billing.pricing import plan_limits
from app.services.core.errors import InvalidInputError
from app.services.core.models import Project, User
from app.services.core.units import format_bytes
from app.services.uploads.ownership import get_owned_project

ACLS = ("private", "public-read")
MAX_TYPES = 50
MAX_FILES_PER_UPLOAD = 100
MAX_EXPIRE_DAYS = 3650
# RFC 6838's top-level types; a subtype is restricted-name characters, or "*".
TOP_LEVEL_TYPES = (
    "application",
    "audio",
    "font",
    "image",
    "message",
    "model",
    "multipart",
    "text",
    "video",
)
_NAME = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
MIME_PATTERN = rf"^(?:{'|'.join(TOP_LEVEL_TYPES)})/(?:{_NAME}|\*)$"
_MIME = re.compile(MIME_PATTERN)
CONFIG_FIELDS = (
    "allowed_types",
    "max_file_size",
    "max_files_per_upload",
    "expire_after_days",
    "acl",
)


class ConfigFieldError(InvalidInputError):
    """One rule is not valid; `field` names it as the API does, so a form can mark its input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_types(text: str) -> list[str]:
    """The form's text ("image/*, application/pdf" or one per line) as a list to validate."""
    return [part for part in re.split(r"[\s,]+", text) if part]


def clean_types(types: Any) -> list[str]:
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ConfigFieldError("allowed_types", "Allowed types must be a list of MIME types.")
    cleaned: list[str] = []
    for raw in types:
        mime = raw.strip().lower()
        if mime == "*/*" or mime == "*":
            raise ConfigFieldError(
                "allowed_types", "To allow any type, leave the list of allowed types empty."
            )
        if not _MIME.match(mime):
            shown = raw.strip()[:60] or "(blank)"
            raise ConfigFieldError(
                "allowed_types",
                f"“{shown}” is not a MIME type: write type/subtype, like image/png, "
                "application/pdf or image/* (the type is one of "
                + ", ".join(TOP_LEVEL_TYPES)
                + ").",
            )
        if mime not in cleaned:
            cleaned.append(mime)
    if len(cleaned) > MAX_TYPES:
        raise ConfigFieldError(
            "allowed_types", f"A project can allow at most {MAX_TYPES} types; use wildcards."
        )
    return cleaned


def _whole(field: str, label: str, value: Any, low: int, high: int) -> int:
    # bool is an int in Python: `true` is not a size.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigFieldError(field, f"{label} must be a whole number.")
    if not low <= value <= high:
        raise ConfigFieldError(field, f"{label} must be between {low:,} and {high:,}.")
    return value


def clean_changes(owner: User, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes, validated and normalised; the first bad one raises ConfigFieldError."""
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ConfigFieldError(field, f"“{field}” is not an upload setting.")
    plan = plan_limits(owner)
    out: dict[str, Any] = {}
    if "allowed_types" in changes:
        out["allowed_types"] = clean_types(changes["allowed_types"])
    if "max_file_size" in changes:
        size = changes["max_file_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigFieldError("max_file_size", "Max file size must be at least 1 byte.")
        if size > plan.max_upload_file_size:
            raise ConfigFieldError(
                "max_file_size",
                f"Max file size can be at most {format_bytes(plan.max_upload_file_size)} on "
                f"the {plan.display_name} plan (see /pricing for more).",
            )
        out["max_file_size"] = size
    if "max_files_per_upload" in changes:
        out["max_files_per_upload"] = _whole(
            "max_files_per_upload",
            "Max files per request",
            changes["max_files_per_upload"],
            1,
            MAX_FILES_PER_UPLOAD,
        )
    if "expire_after_days" in changes:
        days = changes["expire_after_days"]
        out["expire_after_days"] = (
            None
            if days is None
            else _whole("expire_after_days", "Expire after (days)", days, 1, MAX_EXPIRE_DAYS)
        )
    if "acl" in changes:
        if changes["acl"] not in ACLS:
            raise ConfigFieldError("acl", "Access must be “private” or “public-read”.")
        out["acl"] = changes["acl"]
    return out


def update_config(
    session: Session, *, owner: User, project_id: int, changes: Mapping[str, Any]
) -> Project:
    """Apply the changes, all or none, to the owner's project."""
    project = get_owned_project(session, owner=owner, project_id=project_id)
    for field, value in clean_changes(owner, changes).items():
        setattr(project, field, value)
    session.add(project)
    session.flush()
    return project


def config_of(project: Project) -> dict[str, Any]:
    """The project and its upload rules, as the API answers them."""
    return {
        "id": project.id,
        "name": project.name,
        "created_at": project.created_at,
        "allowed_types": list(project.allowed_types),
        "max_file_size": project.max_file_size,
        "max_files_per_upload": project.max_files_per_upload,
        "expire_after_days": project.expire_after_days,
        "acl": project.acl,
    }

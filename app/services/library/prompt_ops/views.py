"""What the prompt page and shared links show: plain dataclasses, no ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.services.core.models import (
    Asset,
    Prompt,
)


@dataclass(frozen=True)
class VersionSummary:
    id: int
    number: int
    message: str
    author_id: int | None
    author: str
    created_at: datetime
    is_current: bool


@dataclass(frozen=True)
class VersionView:
    id: int
    number: int
    message: str
    author_id: int | None
    created_at: datetime
    schema_version: str
    data: dict[str, Any]


@dataclass(frozen=True)
class AnalysisView:
    """One model call that produced or refined the prompt, with its reasoning for replay."""

    id: int
    kind: str
    provider: str
    model: str
    status: str
    reasoning: str
    created_at: datetime
    latency_ms: int | None
    cost_credits: int


@dataclass(frozen=True)
class PromptDetail:
    prompt: Prompt
    data: dict[str, Any]
    current_version: int
    versions: list[VersionSummary]
    tags: list[str]
    asset: Asset | None
    image_url: str
    thumbnail_url: str
    analyses: list[AnalysisView]  # oldest first
    origin: AnalysisView | None  # the analysis that made the prompt, when one did
    conversation_id: int | None
    can_edit: bool
    can_manage: bool
    # The original file as a download under its own name: the same bytes (a generated image
    # keeps the generation details embedded in it), only the Content-Disposition differs.
    download_url: str = ""


@dataclass(frozen=True)
class SharedPrompt:
    """What a share link shows: read-only, and nothing about the owner beyond a display name."""

    title: str
    author: str
    data: dict[str, Any]
    version: int
    tags: list[str]
    updated_at: datetime
    image_url: str
    width: int
    height: int

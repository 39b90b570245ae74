"""What a demo scene is: how to draw it, and what a person would say about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image


@dataclass(frozen=True)
class DemoScene:
    """One demo image: how to draw it, and what a person would say about it."""

    slug: str
    title: str
    tags: tuple[str, ...]
    style: Mapping[str, Any]
    draw: Callable[[], Image.Image]
    scene: str = ""
    subjects: tuple[Mapping[str, Any], ...] = ()
    mood: str = ""
    background: str = ""
    lighting: Mapping[str, Any] = field(default_factory=dict)
    composition: Mapping[str, Any] = field(default_factory=dict)
    camera: Mapping[str, Any] | None = None
    text_render: tuple[Mapping[str, Any], ...] = ()
    negative: str = "blurry, watermark, low detail"


# The style most scenes share (they are illustrations, not photographs).
ILLUSTRATION = {"medium": "digital illustration", "rendering": "flat shapes with soft gradients"}

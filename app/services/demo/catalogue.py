"""The demo catalogue: every scene in display order, looked up by slug and rendered to PNG."""

from __future__ import annotations

import io

from app.services.core.errors import NotFoundError
from app.services.demo.scene import DemoScene
from app.services.demo.scenes.city_and_graphics import (
    BAUHAUS_CIRCLES,
    NEON_SYNTHWAVE,
    NIGHT_CITY,
    OPEN_DAILY_POSTER,
)
from app.services.demo.scenes.indoors import STILL_LIFE, WINDOW_SILHOUETTE
from app.services.demo.scenes.land import (
    AUTUMN_PARK_PATH,
    DESERT_DUNES,
    FLOWER_FIELD,
    MISTY_FOREST,
    SNOWY_MOUNTAINS_DAWN,
)
from app.services.demo.scenes.sea_and_sky import (
    AURORA_LAKE,
    LIGHTHOUSE_NIGHT,
    SUNSET_SEA,
    UNDERWATER,
)

_CATALOGUE: tuple[DemoScene, ...] = (
    SUNSET_SEA,
    NIGHT_CITY,
    MISTY_FOREST,
    SNOWY_MOUNTAINS_DAWN,
    DESERT_DUNES,
    BAUHAUS_CIRCLES,
    NEON_SYNTHWAVE,
    UNDERWATER,
    AUTUMN_PARK_PATH,
    OPEN_DAILY_POSTER,
    STILL_LIFE,
    LIGHTHOUSE_NIGHT,
    FLOWER_FIELD,
    WINDOW_SILHOUETTE,
    AURORA_LAKE,
)


def demo_catalog() -> list[DemoScene]:
    """Every demo scene, in display order."""
    return list(_CATALOGUE)


def get_demo(slug: str) -> DemoScene:
    for scene in _CATALOGUE:
        if scene.slug == slug:
            return scene
    raise NotFoundError(f"There is no demo image called {slug!r}.")


def render_demo_png(scene: DemoScene) -> bytes:
    """The scene as PNG bytes; identical on every call (no timestamps, fixed seeds)."""
    buffer = io.BytesIO()
    scene.draw().save(buffer, format="PNG")
    return buffer.getvalue()

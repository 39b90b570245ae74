"""Procedurally drawn demo images, and schema-valid prompts measured from their pixels.

A fresh clone has no user images, yet the gallery, the editor and the analyzer all need
something real to show. These scenes are drawn with Pillow + numpy from a fixed seed, so the
same bytes come out on every run (tests and seeded databases stay stable), and no image file has
to ship in the repository.

This module is the demo's front door; the work is split by what it does:
`drawing` (canvas primitives), `scenes/` (each scene's drawing and authored description),
`catalogue` (display order, lookup, PNG), `prompts` (prompts measured from the pixels).
"""

# Pixel measurement belongs to the offline analyzer; these names were public here before the
# split, so callers that import them from the demo keep working.
from app.services.analyzer.vision.colour import nearest_color_name
from app.services.analyzer.vision.palette import extract_palette
from app.services.analyzer.vision.pixel_stats import PixelStats, measure_pixels
from app.services.demo.catalogue import demo_catalog, get_demo, render_demo_png
from app.services.demo.drawing import LANDSCAPE, PORTRAIT, SQUARE
from app.services.demo.prompts import HEURISTIC_FIELDS, describe_demo
from app.services.demo.scene import DemoScene

__all__ = [
    "HEURISTIC_FIELDS",
    "LANDSCAPE",
    "PORTRAIT",
    "SQUARE",
    "DemoScene",
    "PixelStats",
    "demo_catalog",
    "describe_demo",
    "extract_palette",
    "get_demo",
    "measure_pixels",
    "nearest_color_name",
    "render_demo_png",
]

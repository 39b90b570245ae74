"""The offline ("local") image analyzer: real computer vision, no network, no account.

    from app.services.analyzer.vision import analyze_image, iter_analysis

`iter_analysis` yields one `FieldResult` per prompt field as each stage finishes (for
streaming); `analyze_image` returns the whole, schema-valid prompt. What is measured and what is
guessed is listed in `meta.heuristic_fields` of every prompt, and in the module docstrings.
"""

from app.services.analyzer.vision.analyzer import (
    ANALYZER_ID,
    NOTICE,
    analyze_image,
    iter_analysis,
    warm_up,
)
from app.services.analyzer.vision.loading import load_image
from app.services.analyzer.vision.result import FieldResult

__all__ = [
    "ANALYZER_ID",
    "NOTICE",
    "FieldResult",
    "analyze_image",
    "iter_analysis",
    "load_image",
    "warm_up",
]

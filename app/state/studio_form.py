"""The studio's operations checklist as plain data, and its translation into an operations spec.

The form keeps every value as the string its input shows (controlled inputs), so a half-typed
number never breaks the page; `build_raw_spec` turns the ticked boxes into the dict `parse_spec`
validates, and says in the same words as `parse_spec` what is wrong with a number.
"""

from __future__ import annotations

from typing import Any

from app.services.analyzer.providers.local import LOCAL_MODEL_ID
from app.services.core.errors import InvalidInputError

OPERATIONS = (
    "resize",
    "crop",
    "convert",
    "compress",
    "metadata",
    "auto_orient",
    "filters",
    "watermark",
    "remove_background",
    "ocr",
    "thumbnails",
    "describe",
)
FILTERS = ("grayscale", "sepia", "sharpen", "blur", "brightness", "contrast", "saturation")
# (min, max, step) for the filters that take an amount; the spec allows 0 < amount <= 10.
FILTER_RANGES: dict[str, tuple[float, float, float]] = {
    "brightness": (0.1, 3.0, 0.05),
    "contrast": (0.1, 3.0, 0.05),
    "saturation": (0.0, 3.0, 0.05),
    "blur": (0.5, 10.0, 0.5),
    "sharpen": (0.5, 5.0, 0.5),
}
THUMBNAIL_SIZES = (64, 128, 256, 512)
ASPECT_PRESETS = ("1:1", "4:5", "16:9", "3:2", "custom")

DEFAULT_OPTIONS: dict[str, str] = {
    "resize_mode": "long_edge",
    "long_edge": "1024",
    "width": "1200",
    "height": "1200",
    "crop_aspect": "1:1",
    "crop_custom": "",
    "format": "webp",
    "compress_mode": "quality",
    "quality": "80",
    "target_kb": "300",
    "metadata": "strip",
    "watermark_text": "",
    "watermark_position": "bottom-right",
    "watermark_opacity": "0.5",
    "bg_provider": "local",
    "amount_brightness": "1.2",
    "amount_contrast": "1.2",
    "amount_saturation": "1.3",
    "amount_blur": "2",
    "amount_sharpen": "1.5",
    "describe_model": LOCAL_MODEL_ID,
}


def _whole(options: dict[str, str], key: str, field: str) -> int:
    raw = str(options.get(key, "")).strip()
    try:
        return int(raw)
    except ValueError:
        raise InvalidInputError(
            f"Check the operations: {field}: enter a whole number of pixels"
            + (f" (not {raw!r})" if raw else "")
        ) from None


def _number(options: dict[str, str], key: str, field: str) -> float:
    try:
        return float(str(options.get(key, "")).strip())
    except ValueError:
        raise InvalidInputError(f"Check the operations: {field}: enter a number") from None


def build_raw_spec(
    enabled: dict[str, bool],
    options: dict[str, str],
    filters: list[str],
    thumbnails: list[int],
) -> dict[str, Any]:
    """The spec dict for the ticked operations. Unticked ones are left out, so their defaults
    apply (metadata is stripped and photos are turned upright unless asked otherwise)."""
    opts = {**DEFAULT_OPTIONS, **options}
    spec: dict[str, Any] = {}
    if enabled.get("resize"):
        mode = opts["resize_mode"]
        if mode == "long_edge":
            spec["resize"] = {
                "mode": mode,
                "long_edge": _whole(opts, "long_edge", "resize.long_edge"),
            }
        else:
            spec["resize"] = {
                "mode": mode,
                "width": _whole(opts, "width", "resize.width"),
                "height": _whole(opts, "height", "resize.height"),
            }
    if enabled.get("crop"):
        aspect = opts["crop_custom"] if opts["crop_aspect"] == "custom" else opts["crop_aspect"]
        spec["crop"] = {"aspect": aspect}
    if enabled.get("convert"):
        spec["convert"] = {"format": opts["format"]}
    if enabled.get("compress"):
        if opts["compress_mode"] == "target":
            spec["compress"] = {"target_kb": _whole(opts, "target_kb", "compress.target_kb")}
        else:
            spec["compress"] = {"quality": _whole(opts, "quality", "compress.quality")}
    if enabled.get("metadata"):
        spec["metadata"] = opts["metadata"]
    if enabled.get("auto_orient"):
        spec["auto_orient"] = True
    if enabled.get("filters"):
        spec["filters"] = [
            {"name": name, "amount": _number(opts, f"amount_{name}", f"filters.{name}")}
            if name in FILTER_RANGES
            else {"name": name}
            for name in FILTERS
            if name in filters
        ]
        if not spec["filters"]:
            raise InvalidInputError("Check the operations: filters: pick at least one filter")
    if enabled.get("watermark"):
        spec["watermark"] = {
            "text": opts["watermark_text"].strip(),
            "position": opts["watermark_position"],
            "opacity": _number(opts, "watermark_opacity", "watermark.opacity"),
        }
        if not spec["watermark"]["text"]:
            raise InvalidInputError("Check the operations: watermark.text: type the text to stamp")
    if enabled.get("remove_background"):
        spec["remove_background"] = {"provider": opts["bg_provider"]}
    if enabled.get("ocr"):
        spec["ocr"] = True
    if enabled.get("thumbnails"):
        spec["thumbnails"] = sorted(set(thumbnails))
        if not spec["thumbnails"]:
            raise InvalidInputError("Check the operations: thumbnails: pick at least one size")
    if enabled.get("describe"):
        spec["describe"] = {"model": opts["describe_model"]}
    return spec

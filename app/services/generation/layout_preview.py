"""The offline "model": a composition board drawn from the JSON prompt with Pillow.

It is what generation falls back to with no provider key, so the whole flow (generate, gallery,
metadata, fidelity) works offline. It is not a generative model and says so on the image
itself. It draws what the prompt states about layout: the palette as bands in proportion,
each subject as a labelled box where its position words put it, the `text_render` lines where
they go, and the aspect ratio.

Deterministic: the same prompt, size and seed give the same PNG bytes (the seed only places
subjects whose position the prompt leaves open). Forgiving: odd or missing fields are skipped,
and an empty prompt still draws a labelled board.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from app.services.core.errors import InvalidInputError
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.sizes import ImageSize, size_for

LABEL = "Layout preview — not a generative model"
MIN_SIDE = 128
MAX_SIDE = 2048
MAX_SUBJECTS = 20
MAX_TEXT_LINES = 10
_FALLBACK_PALETTE = ("#d4d6dd", "#b9bcc6")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Band:
    color: RGB
    share: float


def render_preview(
    prompt: Mapping[str, Any], *, aspect: str | None = None, seed: int = 0
) -> tuple[bytes, ImageSize]:
    """The board as PNG bytes and its size, for `aspect` (else the prompt's own ratio, else 1:1)."""
    if not isinstance(prompt, Mapping):
        raise InvalidInputError("The prompt must be a JSON object, like the editor shows.")
    if aspect is None:
        composition = _section(prompt.get("composition"))
        own = composition.get("aspect_ratio")
        try:
            size = size_for(own, model_id=OFFLINE_MODEL_ID)
        except InvalidInputError:
            size = size_for("1:1", model_id=OFFLINE_MODEL_ID)
    else:
        size = size_for(aspect, model_id=OFFLINE_MODEL_ID)
    return draw_board(prompt, width=size.width, height=size.height, seed=seed), size


def draw_board(prompt: Mapping[str, Any], *, width: int, height: int, seed: int = 0) -> bytes:
    """The composition board at exactly width x height, as PNG bytes."""
    if not isinstance(prompt, Mapping):
        raise InvalidInputError("The prompt must be a JSON object, like the editor shows.")
    for name, side in (("width", width), ("height", height)):
        if isinstance(side, bool) or not isinstance(side, int):
            raise InvalidInputError(f"The preview's {name} must be a whole number of pixels.")
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise InvalidInputError(
                f"The preview's {name} must be from {MIN_SIDE} to {MAX_SIDE} pixels."
            )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInputError("The seed must be a whole number.")
    rng = random.Random(seed)

    bands = palette_bands(prompt.get("color_palette"))
    board = Image.new("RGB", (width, height), bands[0].color)
    draw = ImageDraw.Draw(board)
    _draw_bands(draw, bands, width, height)

    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    layer = ImageDraw.Draw(overlay)
    unit = min(width, height)
    composition = _section(prompt.get("composition"))
    if composition.get("rule_of_thirds") is True:
        _draw_thirds(layer, width, height, max(1, unit // 400))
    _draw_subjects(layer, prompt, composition, width, height, rng)
    _draw_text_lines(layer, prompt.get("text_render"), width, height)
    if not _has_content(prompt):
        _draw_hint(layer, width, height)
    _draw_label(layer, width, height, f"{ImageSize(width, height).aspect} · {width} x {height}")
    board = Image.alpha_composite(board.convert("RGBA"), overlay).convert("RGB")

    out = io.BytesIO()
    # No optimize flag and no metadata: identical input gives identical bytes.
    board.save(out, format="PNG")
    return out.getvalue()


def palette_bands(value: object) -> list[Band]:
    """The palette's valid colours with their share (given proportions, else equal shares)."""
    colors: list[tuple[RGB, float | None]] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, Mapping):
            continue
        hex_code = item.get("hex")
        if not isinstance(hex_code, str) or not _HEX.match(hex_code):
            continue
        proportion = item.get("proportion")
        share = None
        if isinstance(proportion, int | float) and not isinstance(proportion, bool):
            share = float(proportion) if 0 < proportion <= 1 else None
        colors.append((_rgb(hex_code), share))
    if not colors:
        return [Band(_rgb(c), 1 / len(_FALLBACK_PALETTE)) for c in _FALLBACK_PALETTE]
    given = [s for _, s in colors if s is not None]
    # Colours without a proportion share what the others leave (or an equal part if none do).
    left = max(0.0, 1.0 - sum(given))
    missing = len(colors) - len(given)
    fill = left / missing if missing and left > 0 else (1 / len(colors) if missing else 0)
    shares = [s if s is not None else fill for _, s in colors]
    total = sum(shares) or 1.0
    return [Band(c, s / total) for (c, _), s in zip(colors, shares, strict=True)]


def _draw_bands(draw: ImageDraw.ImageDraw, bands: list[Band], width: int, height: int) -> None:
    x = 0.0
    for index, band in enumerate(bands):
        right = width if index == len(bands) - 1 else x + band.share * width
        if round(right) > round(x):
            draw.rectangle((round(x), 0, round(right) - 1, height - 1), fill=band.color)
        x = right


def _draw_thirds(layer: ImageDraw.ImageDraw, width: int, height: int, line: int) -> None:
    for k in (1, 2):
        x, y = width * k // 3, height * k // 3
        layer.line((x, 0, x, height), fill=(255, 255, 255, 90), width=line)
        layer.line((0, y, width, y), fill=(255, 255, 255, 90), width=line)


# Words people write for positions, mapped to a fraction of the width or height.
_HORIZONTAL = (
    ("left third", 1 / 3),
    ("right third", 2 / 3),
    ("left", 0.2),
    ("right", 0.8),
    ("center", 0.5),
    ("centre", 0.5),
    ("middle", 0.5),
)
_VERTICAL = (
    ("upper third", 1 / 3),
    ("lower third", 2 / 3),
    ("top", 0.2),
    ("upper", 0.25),
    ("sky", 0.2),
    ("horizon", 0.5),
    ("bottom", 0.78),
    ("lower", 0.72),
    ("foreground", 0.68),
    ("background", 0.4),
)


def place(words: str) -> tuple[float | None, float | None]:
    """Position words -> (x, y) as fractions of the frame; None where the words say nothing."""
    text = words.lower()
    x = next((v for key, v in _HORIZONTAL if key in text), None)
    y = next((v for key, v in _VERTICAL if key in text), None)
    return x, y


def _draw_subjects(
    layer: ImageDraw.ImageDraw,
    prompt: Mapping[str, Any],
    composition: Mapping[str, Any],
    width: int,
    height: int,
    rng: random.Random,
) -> None:
    subjects = [s for s in _list(prompt.get("subjects")) if isinstance(s, Mapping)]
    subjects = subjects[:MAX_SUBJECTS]
    unit = min(width, height)
    side = unit * (0.42 if len(subjects) <= 1 else max(0.16, 0.42 / len(subjects) ** 0.5))
    font = _font(max(10, round(unit / 34)))
    placed: list[tuple[bool, int, tuple[int, int, int, int], str]] = []
    for index, subject in enumerate(subjects):
        words = _clean(subject.get("position"))
        if not words and index == 0:
            words = _clean(composition.get("subject_position"))
        x, y = place(words)
        # The seed only places a subject the prompt gives no position at all, so a stated
        # position never moves; half a position ("left") is centred on the other axis.
        if x is None and y is None:
            fx, fy = rng.uniform(0.25, 0.75), rng.uniform(0.35, 0.65)
        else:
            fx, fy = (0.5 if x is None else x), (0.5 if y is None else y)
        behind = "background" in words.lower()
        w = side * (0.75 if behind else 1.0)
        h = w * 1.2
        left = min(max(0.0, fx * width - w / 2), width - w)
        top = min(max(0.0, fy * height - h / 2), height - h)
        box = (round(left), round(top), round(left + w), round(top + h))
        label = f"{index + 1}. {_clean(subject.get('description')) or 'subject'}"
        placed.append((behind, index, box, label))
    # Background subjects first, then the rest from least to most important, so the main
    # subject's box and label are never covered by a later one.
    for _, _, box, label in sorted(placed, key=lambda p: (not p[0], -p[1])):
        layer.rectangle(
            box, fill=(255, 255, 255, 70), outline=(20, 20, 24, 220), width=max(2, unit // 300)
        )
        _text_in_box(layer, label, box, font)


def _text_in_box(
    layer: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int], font: Font
) -> None:
    pad = 4
    shown = _fit(text, font, box[2] - box[0] - 2 * pad)
    if shown:
        layer.rectangle(
            (box[0] + 1, box[1] + 1, box[2] - 1, box[1] + _line_height(font) + 2 * pad),
            fill=(20, 20, 24, 200),
        )
        layer.text((box[0] + pad, box[1] + pad), shown, font=font, fill=(255, 255, 255, 255))


def _draw_text_lines(layer: ImageDraw.ImageDraw, value: object, width: int, height: int) -> None:
    items = [i for i in _list(value) if isinstance(i, Mapping) and _clean(i.get("text"))]
    font = _font(max(10, round(min(width, height) / 18)))
    line = _line_height(font) + 12
    rows: dict[str, int] = {}
    for item in items[:MAX_TEXT_LINES]:
        words = _clean(item.get("position")).lower()
        # Lines stack downwards from their slot; without a position, text goes at the top.
        slot = next((k for k in ("bottom", "center", "middle") if k in words), "top")
        if slot != "bottom" and "top" in words:
            slot = "top"
        row = rows.get(slot, 0)
        rows[slot] = row + 1
        shown = _fit(_clean(item.get("text")), font, width - 36)
        if not shown:
            continue
        text_width = font.getlength(shown)
        if "right" in words:
            x = width - 18 - text_width
        elif "left" in words:
            x = 18.0
        else:
            x = (width - text_width) / 2
        top = round(_TEXT_SLOTS[slot] * height + row * line)
        layer.rectangle(
            (round(x) - 6, top - 4, round(x + text_width) + 6, top + line - 8),
            fill=(255, 255, 255, 215),
        )
        layer.text((round(x), top), shown, font=font, fill=(15, 15, 18, 255))


_TEXT_SLOTS = {"top": 0.05, "center": 0.45, "middle": 0.45, "bottom": 0.7}


def _draw_label(layer: ImageDraw.ImageDraw, width: int, height: int, caption: str) -> None:
    """The dark strip along the bottom: the label, then the ratio and size when they fit."""
    size = max(9, round(min(width, height) / 28))
    font = _font(size)
    while size > 6 and _label_width(font) > width - 16:
        size -= 1
        font = _font(size)
    strip = _line_height(font) + 12
    top = height - strip
    layer.rectangle((0, top, width, height), fill=(10, 10, 12, 230))
    white = (255, 255, 255, 255)
    # Pillow's bundled font has no em dash glyph, so the dash is drawn as a line.
    before, after = LABEL.split(" — ")
    x = 8.0
    layer.text((x, top + 6), before, font=font, fill=white)
    x += font.getlength(before + " ")
    dash = font.getlength("M")
    middle = top + 6 + _line_height(font) * 0.55
    layer.line((round(x), round(middle), round(x + dash), round(middle)), fill=white, width=1)
    x += dash + font.getlength(" ")
    layer.text((round(x), top + 6), after, font=font, fill=white)
    x += font.getlength(after)
    caption_width = font.getlength(caption)
    if width - 8 - caption_width > x + 16:
        layer.text((round(width - 8 - caption_width), top + 6), caption, font=font, fill=white)


def _label_width(font: ImageFont.FreeTypeFont) -> float:
    before, after = LABEL.split(" — ")
    return font.getlength(before + " M " + after)


def _has_content(prompt: Mapping[str, Any]) -> bool:
    palette = palette_bands(prompt.get("color_palette"))
    fallback = [Band(_rgb(c), 1 / len(_FALLBACK_PALETTE)) for c in _FALLBACK_PALETTE]
    subjects = [s for s in _list(prompt.get("subjects")) if isinstance(s, Mapping)]
    texts = [t for t in _list(prompt.get("text_render")) if isinstance(t, Mapping)]
    return palette != fallback or bool(subjects) or bool(texts)


def _draw_hint(layer: ImageDraw.ImageDraw, width: int, height: int) -> None:
    """An empty prompt still says what the board would show."""
    font = _font(max(10, round(min(width, height) / 30)))
    lines = ["Nothing to lay out yet:", "add colours, subjects or text to the prompt."]
    y = height * 0.42
    for line in lines:
        shown = _fit(line, font, width - 24)
        layer.text(
            ((width - font.getlength(shown)) / 2, y), shown, font=font, fill=(40, 40, 48, 255)
        )
        y += _line_height(font) + 4


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's bundled font, never the system's: the bytes must not depend on the machine.
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow is built with FreeType here
    return font


def _line_height(font: Font) -> int:
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 4


def _fit(text: str, font: Font, room: float) -> str:
    """`text`, cut with an ellipsis to fit `room` pixels ("" if not even one letter fits)."""
    if room <= 0:
        return ""
    if font.getlength(text) <= room:
        return text
    for end in range(min(len(text), 200), 0, -1):
        candidate = text[:end].rstrip() + "…"
        if font.getlength(candidate) <= room:
            return candidate
    return ""


def _clean(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:300]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _section(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rgb(hex_code: str) -> RGB:
    return int(hex_code[1:3], 16), int(hex_code[3:5], 16), int(hex_code[5:7], 16)

"""Turn a (possibly partial) prompt into the small, flat records the page renders.

Plain Python (no reflex): the analyzer state calls it on every streamed update.
"""

from __future__ import annotations

import json
from typing import Any

FIELD_ORDER = [
    ("scene", "Scene", "image"),
    ("subjects", "Subjects", "users"),
    ("style", "Style", "brush"),
    ("color_palette", "Palette", "palette"),
    ("lighting", "Lighting", "sun"),
    ("mood", "Mood", "smile"),
    ("background", "Background", "mountain"),
    ("composition", "Composition", "layout-grid"),
    ("camera", "Camera", "camera"),
    ("text_render", "Text in image", "type"),
    ("negative", "Avoid", "ban"),
    ("tags", "Tags", "tags"),
]


def _words(key: str) -> str:
    return key.replace("_", " ")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)}: {_scalar(v)}" for k, v in value.items())
    return str(value)


def summarize(key: str, value: Any) -> str:
    if key == "subjects" and isinstance(value, list):
        lines = []
        for s in value:
            if isinstance(s, dict):
                extra = ", ".join(str(s[k]) for k in ("position", "action", "pose") if s.get(k))
                lines.append(f"{s.get('description', '')}" + (f" ({extra})" if extra else ""))
        return "\n".join(lines) or "none"
    if key == "text_render" and isinstance(value, list):
        return (
            "\n".join(
                f"“{t.get('text', '')}”" + (f" at {t['position']}" if t.get("position") else "")
                for t in value
                if isinstance(t, dict)
            )
            or "none"
        )
    if isinstance(value, dict):
        return "\n".join(
            f"{_words(k)}: {_scalar(v)}" for k, v in value.items() if v not in ("", None, [])
        )
    return _scalar(value)


def swatches(value: Any) -> list[dict[str, str]]:
    out = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("hex"), str):
            share = entry.get("proportion")
            out.append(
                {
                    "hex": entry["hex"],
                    "name": str(entry.get("name", "")),
                    "pct": f"{float(share) * 100:.0f}%" if isinstance(share, int | float) else "",
                }
            )
    return out


def cards(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not data:
        return []
    heuristic = set((data.get("meta") or {}).get("heuristic_fields", []) or [])
    out = []
    for key, label, icon in FIELD_ORDER:
        if key not in data:
            continue
        value = data[key]
        out.append(
            {
                "key": key,
                "label": label,
                "icon": icon,
                "text": "" if key == "color_palette" else summarize(key, value),
                "swatches": swatches(value) if key == "color_palette" else [],
                "heuristic": any(h == key or h.startswith(f"{key}.") for h in heuristic),
            }
        )
    return out


def pretty(data: dict[str, Any] | None) -> str:
    return json.dumps(data or {}, indent=2, ensure_ascii=False)

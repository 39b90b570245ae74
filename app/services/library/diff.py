"""Which JSON paths changed between two prompts.

Hand-written (30 lines) rather than a diff library because the UI needs our own path format
(`lighting.key`, `subjects[1]`) and a short value preview, not a patch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Change:
    path: str
    op: Literal["added", "removed", "changed"]
    old: str
    new: str


def _preview(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in list(old) + [k for k in new if k not in old]:
            child = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Change(child, "removed", _preview(old[key]), ""))
            elif key not in old:
                out.append(Change(child, "added", "", _preview(new[key])))
            else:
                out.extend(diff(old[key], new[key], child))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            child = f"{path}[{i}]"
            if i >= len(new):
                out.append(Change(child, "removed", _preview(old[i]), ""))
            elif i >= len(old):
                out.append(Change(child, "added", "", _preview(new[i])))
            else:
                out.extend(diff(old[i], new[i], child))
        return out
    if old != new:
        if isinstance(old, str) and isinstance(new, str):
            old, new = _trim_common_prefix(old, new)
        return [Change(path or "(root)", "changed", _preview(old), _preview(new))]
    return []


def _trim_common_prefix(old: str, new: str, keep: int = 24) -> tuple[str, str]:
    """A long sentence with a phrase appended shows the phrase, not the same opening twice."""
    same = 0
    for a, b in zip(old, new, strict=False):
        if a != b:
            break
        same += 1
    if same <= keep * 2:
        return old, new
    cut = same - keep
    return "…" + old[cut:], "…" + new[cut:]

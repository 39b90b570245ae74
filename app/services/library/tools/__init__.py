"""Tools for editing JSON prompts: formatting, lint with one-click fixes, presets, exports.

Everything here works on plain dicts and never imports reflex; presets also read and write the
`Preset` table.
"""

from app.services.library.tools.exports import (
    DEFAULT_API_BASE,
    DEFAULT_MODEL,
    generation_payload,
    image_size,
    snippet_curl,
    snippet_python,
    to_canonical_json,
    to_flux2_json,
    to_prose,
)
from app.services.library.tools.format import canonical, format_json
from app.services.library.tools.lint import LintIssue, apply_all_fixes, apply_fix, lint, to_hex
from app.services.library.tools.presets import (
    BUILTIN_PRESETS,
    CATEGORIES,
    PresetInfo,
    delete_preset,
    get_preset,
    list_presets,
    merge,
    preview_preset,
    save_preset,
    validate_partial,
)

__all__ = [
    "BUILTIN_PRESETS",
    "CATEGORIES",
    "DEFAULT_API_BASE",
    "DEFAULT_MODEL",
    "LintIssue",
    "PresetInfo",
    "apply_all_fixes",
    "apply_fix",
    "canonical",
    "delete_preset",
    "format_json",
    "generation_payload",
    "get_preset",
    "image_size",
    "lint",
    "list_presets",
    "merge",
    "preview_preset",
    "save_preset",
    "snippet_curl",
    "snippet_python",
    "to_canonical_json",
    "to_flux2_json",
    "to_hex",
    "to_prose",
    "validate_partial",
]

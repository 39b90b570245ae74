"""Lighting rules for the prompt linter: settings that contradict each other.

Each rule reads the whole prompt (the scene says when it is) and its `lighting` object, returns a
message when it fires, and may carry a fix that aligns one setting to the other. The linter
(`lint.py`) turns the messages into issues and hands out fix ids by rule name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# Phrases that put the light firmly on one side; checked as whole words, case-insensitively.
_BRIGHT: tuple[str, ...] = (
    *("bright midday", "midday sun", "noon sun", "harsh noon", "high-key", "high key"),
    *("bright daylight", "bright sunlight", "overexposed", "blown-out highlights"),
)
_DARK: tuple[str, ...] = (
    *("low-key", "low key", "night", "nighttime", "moonlight", "moonlit", "candlelight", "dim"),
)
_COOL: tuple[str, ...] = ("cool", "cold", "blue", "icy", "bluish")
_WARM: tuple[str, ...] = (
    *("warm", "golden", "sunset", "sunrise", "candle", "candlelight", "tungsten"),
    *("incandescent", "firelight", "amber", "orange"),
)
_NIGHT: tuple[str, ...] = ("night", "nighttime", "midnight", "moonlight", "moonlit", "starlight")
_MIDDAY: tuple[str, ...] = ("midday", "noon", "midday sun", "noon sun", "high sun")
_WARM_KELVIN = 3500  # below: candle, tungsten, golden hour
_COOL_KELVIN = 6500  # above: shade, overcast, blue sky


def _kelvin(light: dict[str, Any]) -> float | None:
    value = light.get("color_temperature_k")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _found(text: str, terms: tuple[str, ...]) -> str | None:
    return next((t for t in terms if _mentions(text, t)), None)


@dataclass(frozen=True)
class LightingRule:
    name: str
    # Returns the message when the rule fires, else None.
    check: Callable[[dict[str, Any], dict[str, Any]], str | None]
    fix: Callable[[dict[str, Any], dict[str, Any]], None] | None


def _key_too_dark(_prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    term = _found(_text(light.get("conditions")), _BRIGHT)
    if light.get("key") == "low-key" and term:
        return (
            f'Lighting is set to low-key (mostly dark) but the conditions say "{term}". '
            "The fix sets the key to high-key to match the conditions."
        )
    return None


def _key_too_bright(_prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    term = _found(_text(light.get("conditions")), _DARK)
    if light.get("key") == "high-key" and term:
        return (
            f'Lighting is set to high-key (mostly bright) but the conditions say "{term}". '
            "The fix sets the key to low-key to match the conditions."
        )
    return None


def _warm_kelvin_cool_light(_prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    kelvin = _kelvin(light)
    conditions = _text(light.get("conditions"))
    term = _found(conditions, _COOL)
    if kelvin is not None and kelvin < _WARM_KELVIN and term and not _found(conditions, _WARM):
        return (
            f"The color temperature ({kelvin:g} K) is warm, like candlelight, but the "
            f'conditions describe "{term}" light. The fix sets it to {_COOL_KELVIN} K '
            "(cool daylight) to match the conditions."
        )
    return None


def _cool_kelvin_warm_light(_prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    kelvin = _kelvin(light)
    conditions = _text(light.get("conditions"))
    term = _found(conditions, _WARM)
    if kelvin is not None and kelvin > _COOL_KELVIN and term and not _found(conditions, _COOL):
        return (
            f"The color temperature ({kelvin:g} K) is cool, like blue sky, but the "
            f'conditions describe "{term}" light. The fix sets it to 3000 K (warm light) '
            "to match the conditions."
        )
    return None


def _night_scene_midday_light(prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    night = _found(_text(prompt.get("scene")), _NIGHT)
    midday = _found(_text(light.get("conditions")), _MIDDAY)
    if night and midday:
        return (
            f'The scene is at "{night}" but the lighting says "{midday}". '
            'The fix changes the lighting conditions to "night" to match the scene.'
        )
    return None


def _midday_scene_night_light(prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    midday = _found(_text(prompt.get("scene")), _MIDDAY)
    night = _found(_text(light.get("conditions")), _NIGHT)
    if midday and night:
        return (
            f'The scene is at "{midday}" but the lighting says "{night}". '
            'The fix changes the lighting conditions to "bright midday sun" to match the scene.'
        )
    return None


def _night_and_midday_light(prompt: dict[str, Any], light: dict[str, Any]) -> str | None:
    conditions = _text(light.get("conditions"))
    night, midday = _found(conditions, _NIGHT), _found(conditions, _MIDDAY)
    scene = _text(prompt.get("scene"))
    if night and midday and not _found(scene, _NIGHT) and not _found(scene, _MIDDAY):
        return (
            f'The lighting conditions mention both "{night}" and "{midday}". '
            "Choose one: the model cannot show both."
        )
    return None


def _set(key: str, value: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def fix(_prompt: dict[str, Any], light: dict[str, Any]) -> None:
        light[key] = value

    return fix


_LIGHTING_RULES: tuple[LightingRule, ...] = (
    LightingRule("key-too-dark", _key_too_dark, _set("key", "high-key")),
    LightingRule("key-too-bright", _key_too_bright, _set("key", "low-key")),
    LightingRule("warm-kelvin", _warm_kelvin_cool_light, _set("color_temperature_k", _COOL_KELVIN)),
    LightingRule("cool-kelvin", _cool_kelvin_warm_light, _set("color_temperature_k", 3000)),
    LightingRule("night-scene", _night_scene_midday_light, _set("conditions", "night")),
    LightingRule(
        "midday-scene", _midday_scene_night_light, _set("conditions", "bright midday sun")
    ),
    LightingRule("night-and-midday", _night_and_midday_light, None),
)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mentions(text: str, term: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, flags=re.IGNORECASE) is not None


def conflicts(prompt: dict[str, Any], light: dict[str, Any]) -> Iterator[tuple[LightingRule, str]]:
    """Each rule that fires on `light` (the prompt's lighting object), with its message."""
    for rule in _LIGHTING_RULES:
        message = rule.check(prompt, light)
        if message is not None:
            yield rule, message


def fix(prompt: dict[str, Any], light: dict[str, Any], rule_name: str) -> None:
    """Apply the named rule's fix to `light` in place."""
    rule = next(r for r in _LIGHTING_RULES if r.name == rule_name)
    assert rule.fix is not None  # only rules with a fix hand out fix ids
    rule.fix(prompt, light)

"""A prompt in the shapes other tools take: canonical JSON, FLUX.2 JSON, prose, and ready-to-run
API calls (cURL and Python) for Together AI's image endpoint.

FLUX.2 shape. Black Forest Labs' "JSON structured prompting" guide (docs.bfl.ai, FLUX.2) documents
this base schema, which `to_flux2_json` follows key for key:

    scene: str
    subjects: [{description, position, action}]   (their own examples also use `pose`)
    style: str
    color_palette: [hex strings]
    lighting: str, mood: str, background: str, composition: str
    camera: {angle, lens, depth_of_field}

Our richer fields are folded into those keys rather than added as new ones (focal length and
aperture into `camera.lens`, expression and clothing into the subject's description, text to
render into the scene), so nothing the user wrote is lost and nothing undocumented is sent.
The same guide says FLUX.2 does not support negative prompts, so `negative` is dropped.
"""

from __future__ import annotations

import json
import pprint
import shlex
from collections.abc import Mapping
from typing import Any, Literal

from app.services.library.prompts import render_prose
from app.services.library.tools.format import format_json

PromptFormat = Literal["prose", "flux2"]
DEFAULT_API_BASE = "https://api.together.xyz/v1"
DEFAULT_MODEL = "black-forest-labs/FLUX.2-dev"
# Long edge of the requested image; the short edge follows the aspect ratio. FLUX endpoints want
# sides that are multiples of 16.
_LONG_EDGE = 1024
_SIDE_STEP = 16


def to_canonical_json(data: Mapping[str, Any]) -> str:
    return format_json(dict(data))


def to_prose(data: Mapping[str, Any]) -> str:
    return render_prose(data)


def to_flux2_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The prompt in BFL's documented FLUX.2 JSON shape; empty parts are left out."""
    out: dict[str, Any] = {
        "scene": _scene(data),
        "subjects": [s for s in (_subject(s) for s in _items(data.get("subjects"))) if s],
        "style": _style(_section(data.get("style"))),
        "color_palette": [
            c["hex"] for c in _items(data.get("color_palette")) if isinstance(c.get("hex"), str)
        ],
        "lighting": _lighting(_section(data.get("lighting"))),
        "mood": _text(data.get("mood")),
        "background": _text(data.get("background")),
        "composition": _composition(data),
        "camera": _camera(_section(data.get("camera"))),
    }
    return {k: v for k, v in out.items() if v}


def generation_payload(
    data: Mapping[str, Any], *, model: str, prompt_format: PromptFormat | None = None
) -> dict[str, Any]:
    """The JSON body for `POST /images/generations` (Together AI).

    FLUX.2 models get the FLUX.2 JSON as the prompt string; older models get prose.
    """
    chosen = prompt_format or ("flux2" if "flux.2" in model.lower() else "prose")
    prompt = (
        json.dumps(to_flux2_json(data), ensure_ascii=False) if chosen == "flux2" else to_prose(data)
    )
    width, height = image_size(data)
    return {"model": model, "prompt": prompt, "width": width, "height": height, "n": 1}


def snippet_curl(
    data: Mapping[str, Any],
    *,
    api_base: str = DEFAULT_API_BASE,
    model: str = DEFAULT_MODEL,
    prompt_format: PromptFormat | None = None,
) -> str:
    """A shell command that generates the image. The key comes from $TOGETHER_API_KEY.

    The body is one single-quoted shell word (`shlex.quote`), so quotes, `$`, backticks and
    newlines in the prompt reach the API exactly as written and are never run by the shell.
    """
    body = json.dumps(
        generation_payload(data, model=model, prompt_format=prompt_format), ensure_ascii=False
    )
    url = api_base.rstrip("/") + "/images/generations"
    return (
        f"curl -sS {shlex.quote(url)} \\\n"
        '  -H "Authorization: Bearer $TOGETHER_API_KEY" \\\n'
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d {shlex.quote(body)}\n"
    )


def snippet_python(
    data: Mapping[str, Any],
    *,
    api_base: str = DEFAULT_API_BASE,
    model: str = DEFAULT_MODEL,
    prompt_format: PromptFormat | None = None,
) -> str:
    """A Python script (standard library only) that generates the image and prints its URL."""
    payload = generation_payload(data, model=model, prompt_format=prompt_format)
    url = api_base.rstrip("/") + "/images/generations"
    # pprint writes Python literals (repr), so any text in the prompt is safely quoted.
    literal = pprint.pformat(payload, indent=4, width=96, sort_dicts=False)
    return (
        "import json\n"
        "import os\n"
        "import urllib.request\n"
        "\n"
        f"payload = {literal}\n"
        "request = urllib.request.Request(\n"
        f"    {url!r},\n"
        "    data=json.dumps(payload).encode('utf-8'),\n"
        "    headers={\n"
        "        'Authorization': 'Bearer ' + os.environ['TOGETHER_API_KEY'],\n"
        "        'Content-Type': 'application/json',\n"
        "    },\n"
        ")\n"
        "with urllib.request.urlopen(request, timeout=120) as response:\n"
        "    result = json.load(response)\n"
        "print(result['data'][0].get('url') or 'image returned as base64')\n"
    )


def image_size(data: Mapping[str, Any]) -> tuple[int, int]:
    """Width and height for the prompt's aspect ratio (1024 on the long edge; 1:1 if unset)."""
    ratio = _text(_section(data.get("composition")).get("aspect_ratio"))
    try:
        w_text, h_text = ratio.split(":")
        w, h = float(w_text), float(h_text)
    except ValueError:
        w = h = 1.0
    if w <= 0 or h <= 0:
        w = h = 1.0
    scale = _LONG_EDGE / max(w, h)
    return _snap(w * scale), _snap(h * scale)


def _snap(side: float) -> int:
    return max(_SIDE_STEP, round(side / _SIDE_STEP) * _SIDE_STEP)


# -- field renderers ------------------------------------------------------------------------


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value:g}"


def _section(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _join(parts: list[str], sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _scene(data: Mapping[str, Any]) -> str:
    scene = _text(data.get("scene"))
    texts = []
    for item in _items(data.get("text_render")):
        words = item.get("text")
        if isinstance(words, str) and words.strip():
            details = _join([_text(item.get("position")), _text(item.get("style"))])
            texts.append(f'"{words.strip()}"' + (f" ({details})" if details else ""))
    if texts:
        scene = _join([scene, "Text in the image: " + "; ".join(texts)], ". ")
    return scene


def _subject(subject: Mapping[str, Any]) -> dict[str, str]:
    expression = _text(subject.get("expression"))
    clothing = _text(subject.get("clothing"))
    description = _join(
        [
            _text(subject.get("description")),
            f"{expression} expression" if expression else "",
            f"wearing {clothing}" if clothing else "",
        ]
    )
    out = {
        "description": description,
        "position": _text(subject.get("position")),
        "action": _text(subject.get("action")),
        "pose": _text(subject.get("pose")),
    }
    return {k: v for k, v in out.items() if v} if description else {}


def _style(style: Mapping[str, Any]) -> str:
    artists = [_text(a) for a in style.get("artists", []) if isinstance(a, str)]
    references = [_text(r) for r in style.get("references", []) if isinstance(r, str)]
    return _join(
        [
            _text(style.get("medium")),
            _text(style.get("genre")),
            _text(style.get("rendering")),
            f"in the style of {', '.join(artists)}" if artists else "",
            f"referencing {', '.join(references)}" if references else "",
        ]
    )


def _lighting(light: Mapping[str, Any]) -> str:
    direction = _text(light.get("direction"))
    contrast = _text(light.get("contrast"))
    kelvin = _number(light.get("color_temperature_k"))
    return _join(
        [
            _text(light.get("conditions")),
            _direction(direction),
            _text(light.get("shadows")),
            f"{contrast} contrast" if contrast else "",
            f"{kelvin}K color temperature" if kelvin else "",
            _text(light.get("key")),
        ]
    )


def _direction(direction: str) -> str:
    if not direction:
        return ""
    if direction.lower() in ("ambient", "diffuse", "even", "all around"):
        return f"{direction} light"
    return f"lit from the {direction}"


def _composition(data: Mapping[str, Any]) -> str:
    composition = _section(data.get("composition"))
    camera = _section(data.get("camera"))
    position = _text(composition.get("subject_position"))
    symmetry = _text(composition.get("symmetry"))
    return _join(
        [
            _text(camera.get("shot_type")),
            _text(composition.get("framing")),
            f"subject {position}" if position else "",
            "rule of thirds" if composition.get("rule_of_thirds") is True else "",
            f"{symmetry} symmetry" if symmetry and symmetry != "none" else "",
            _join(
                [_text(composition.get("aspect_ratio")), _text(composition.get("orientation"))],
                " ",
            ),
        ]
    )


def _camera(camera: Mapping[str, Any]) -> dict[str, str]:
    focal = _number(camera.get("focal_length_mm"))
    aperture = _number(camera.get("aperture"))
    depth = _text(camera.get("depth_of_field"))
    out = {
        "angle": _text(camera.get("angle")),
        "lens": _join(
            [
                f"{focal}mm" if focal else "",
                _text(camera.get("lens")),
                f"f/{aperture}" if aperture else "",
            ],
            " ",
        ),
        "depth_of_field": f"{depth} depth of field" if depth else "",
    }
    return {k: v for k, v in out.items() if v}


__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_MODEL",
    "generation_payload",
    "image_size",
    "snippet_curl",
    "snippet_python",
    "to_canonical_json",
    "to_flux2_json",
    "to_prose",
]

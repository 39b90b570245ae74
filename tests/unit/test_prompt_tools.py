"""Prompt tools: canonical formatting, lint rules and their fixes, presets, and exports."""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from app.services.accounts import auth
from app.services.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.services.library.prompts import (
    PromptValidationError,
    load_schema,
    render_prose,
    validate_prompt,
)
from app.services.library.tools import (
    BUILTIN_PRESETS,
    LintIssue,
    apply_all_fixes,
    apply_fix,
    canonical,
    delete_preset,
    format_json,
    generation_payload,
    get_preset,
    image_size,
    lint,
    list_presets,
    merge,
    preview_preset,
    save_preset,
    snippet_curl,
    snippet_python,
    to_canonical_json,
    to_flux2_json,
    to_hex,
    to_prose,
    validate_partial,
)


def base_prompt() -> dict[str, Any]:
    """A valid prompt that no lint rule objects to."""
    return {
        "schema_version": "1.0",
        "scene": "A red fox crossing a snowy meadow at dawn",
        "subjects": [
            {
                "type": "animal",
                "description": "a red fox",
                "position": "center",
                "action": "trotting",
            },
            {"type": "object", "description": "a wooden fence", "position": "background left"},
        ],
        "style": {"medium": "photograph", "genre": "wildlife", "rendering": "fine grain"},
        "color_palette": [
            {"hex": "#d9622b", "name": "fox orange", "proportion": 0.2},
            {"hex": "#eef2f7", "name": "snow", "proportion": 0.7},
            {"hex": "#3b4a5a", "name": "slate", "proportion": 0.1},
        ],
        "lighting": {
            "conditions": "soft dawn light",
            "direction": "side",
            "contrast": "medium",
            "color_temperature_k": 4500,
            "key": "mid-key",
        },
        "mood": "quiet",
        "background": "a pine forest edge",
        "composition": {"aspect_ratio": "16:9", "orientation": "landscape"},
        "camera": {
            "angle": "eye level",
            "lens": "telephoto",
            "focal_length_mm": 300,
            "aperture": 4,
            "depth_of_field": "shallow",
        },
        "negative": "blurry, watermark",
        "tags": ["fox", "winter"],
    }


def codes(issues: list[LintIssue]) -> list[str]:
    return [i.code for i in issues]


def only(data: dict[str, Any], code: str) -> LintIssue:
    found = [i for i in lint(data) if i.code == code]
    assert len(found) == 1, lint(data)
    return found[0]


def fix(data: dict[str, Any], code: str) -> dict[str, Any]:
    issue = only(data, code)
    assert issue.fix_id is not None
    before = copy.deepcopy(data)
    fixed = apply_fix(data, issue.fix_id)
    assert data == before, "apply_fix must not mutate its input"
    assert not [i for i in lint(fixed) if i.code == code]
    return fixed


# --- format --------------------------------------------------------------------------------


def test_base_prompt_is_valid_and_clean() -> None:
    assert validate_prompt(base_prompt()) == []
    assert lint(base_prompt()) == []


def test_canonical_follows_schema_order_recursively_and_keeps_array_order() -> None:
    data = base_prompt()
    shuffled = {k: data[k] for k in reversed(list(data))}
    shuffled["lighting"] = {k: data["lighting"][k] for k in reversed(list(data["lighting"]))}
    shuffled["subjects"] = [{k: s[k] for k in reversed(list(s))} for s in data["subjects"]]
    shuffled["zzz"] = 1  # unknown keys are kept, after the known ones
    out = canonical(shuffled)
    schema = load_schema()
    assert list(out) == [k for k in schema["properties"] if k in data] + ["zzz"]
    light_order = list(schema["properties"]["lighting"]["properties"])
    assert list(out["lighting"]) == [k for k in light_order if k in data["lighting"]]
    subject_order = list(schema["$defs"]["subject"]["properties"])
    assert list(out["subjects"][0]) == [k for k in subject_order if k in data["subjects"][0]]
    assert [s["description"] for s in out["subjects"]] == ["a red fox", "a wooden fence"]
    assert list(shuffled)[0] == "tags"  # the input is untouched


def test_format_json_is_idempotent_pretty_and_unescaped() -> None:
    data = base_prompt()
    data["scene"] = "Un café à Paris — 東京"
    text = format_json({k: data[k] for k in reversed(list(data))})
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '\n  "scene": "Un café à Paris — 東京",' in text
    assert format_json(json.loads(text)) == text
    assert json.loads(text) == data
    assert to_canonical_json(data) == text


# --- lint rules ----------------------------------------------------------------------------


def test_lint_refuses_a_non_object_without_crashing() -> None:
    for value in (None, [], "scene", 3):
        assert codes(lint(value)) == ["not-an-object"]


def test_lint_survives_wrongly_typed_fields() -> None:
    messy: dict[str, Any] = {
        "scene": 5,
        "subjects": "a fox",
        "color_palette": {"hex": "#fff"},
        "lighting": ["bright"],
        "negative": ["x"],
        "style": None,
    }
    lint(messy)  # the schema reports these; lint only must not crash


def test_empty_fields_are_removed_but_required_ones_left_to_the_schema() -> None:
    data = base_prompt()
    data["mood"] = "   "
    data["style"]["artists"] = []
    data["tags"] = ["fox", ""]
    data["camera"] = {}
    data["subjects"] = []  # required (and allowed empty for abstract images): not flagged
    issues = [i for i in lint(data) if i.code == "empty-field"]
    assert {i.path for i in issues} == {"mood", "style.artists", "tags[1]", "camera"}
    assert all(i.severity == "warning" for i in issues)
    mood = next(i for i in issues if i.path == "mood")
    assert mood.message.startswith("Mood is empty.")
    assert next(i for i in issues if i.path == "tags[1]").message.startswith("Tag 2 is empty")
    fixed = apply_all_fixes(data)
    assert "mood" not in fixed and "camera" not in fixed and "artists" not in fixed["style"]
    assert fixed["tags"] == ["fox"] and fixed["subjects"] == []
    assert lint(fixed) == [] and validate_prompt(fixed) == []


def test_unknown_keys_move_under_meta_unknown() -> None:
    data = base_prompt()
    data["vibe"] = {"level": 11}
    data["style"]["brush"] = "round"
    data["subjects"][0]["age"] = 3
    issues = [i for i in lint(data) if i.code == "unknown-key"]
    assert {i.path for i in issues} == {"vibe", "style.brush", "subjects[0].age"}
    assert all(i.severity == "error" for i in issues)
    vibe = next(i for i in issues if i.path == "vibe")
    assert vibe.message.startswith('"vibe" is not a field of the prompt')
    age = next(i for i in issues if i.path == "subjects[0].age")
    assert age.message.startswith('"age" is not a field of Subject 1')
    fixed = apply_all_fixes(data)
    assert fixed["meta"]["unknown"] == {
        "vibe": {"level": 11},
        "style.brush": "round",
        "subjects[0].age": 3,
    }
    assert validate_prompt(fixed) == [] and lint(fixed) == []


def test_a_misspelled_key_is_renamed_in_place() -> None:
    data = base_prompt()
    data["Colour-Palette"] = data.pop("color_palette")
    issue = only(data, "misspelled-key")
    assert 'Did you mean "color_palette"' in issue.message
    fixed = fix(data, "misspelled-key")
    assert fixed["color_palette"] == base_prompt()["color_palette"]
    assert validate_prompt(fixed) == []


def test_to_hex_reads_names_rgb_and_short_hex() -> None:
    assert to_hex("Tomato") == "#ff6347"
    assert to_hex("light blue") == "#add8e6"
    assert to_hex("rgb(255, 0, 0)") == "#ff0000"
    assert to_hex("#ABC") == "#aabbcc"
    assert to_hex("abc123") == "#abc123"
    assert to_hex("hsl(120, 100%, 25%)") == "#008000"
    for bad in ("nope", "rgb(300, 0, 0)", "", None, 12):
        assert to_hex(bad) is None


def test_palette_entries_that_are_not_hex_are_converted_or_removed() -> None:
    data = base_prompt()
    data["color_palette"] = [
        "tomato",
        {"hex": "rgb(0, 128, 0)", "name": "green"},
        {"hex": "#abc"},
        {"name": "navy"},
        {"hex": "sunset-ish"},
        {"hex": "#123456"},
        {"hex": "???", "name": "white"},
    ]
    issues = [i for i in lint(data) if i.code == "palette-not-hex"]
    assert [i.path for i in issues] == [f"color_palette[{n}]" for n in (0, 1, 2, 3, 4, 6)]
    assert 'Color 1 is "tomato", not a hex code' in issues[0].message
    assert "#ff6347" in issues[0].message
    assert "cannot be read as a color" in issues[4].message
    fixed = apply_all_fixes(data)
    assert fixed["color_palette"] == [
        {"hex": "#ff6347"},
        {"hex": "#008000", "name": "green"},
        {"hex": "#aabbcc"},
        {"name": "navy", "hex": "#000080"},
        {"hex": "#123456"},
        {"hex": "#ffffff", "name": "white"},
    ]
    assert validate_prompt(fixed) == []


def test_duplicate_subjects_keep_the_first() -> None:
    data = base_prompt()
    data["subjects"].append({"description": "A  Red FOX ", "action": "sleeping"})
    issue = only(data, "duplicate-subject")
    assert issue.path == "subjects[2]"
    assert "Subject 3 repeats subject 1" in issue.message
    fixed = fix(data, "duplicate-subject")
    assert [s["description"] for s in fixed["subjects"]] == ["a red fox", "a wooden fence"]


def test_a_negative_term_the_prompt_asks_for_is_dropped_from_negative() -> None:
    data = base_prompt()
    data["negative"] = "blurry, no fence, watermark"
    issue = only(data, "negative-conflict")
    assert issue.path == "negative"
    assert '"no fence" is listed under Avoid, but Subject 2 asks for it' in issue.message
    assert fix(data, "negative-conflict")["negative"] == "blurry, watermark"

    data["negative"] = "pine forest"
    assert "Background" in only(data, "negative-conflict").message
    assert "negative" not in fix(data, "negative-conflict")

    data["negative"] = "photograph"
    assert "Style" in only(data, "negative-conflict").message


def test_negative_terms_match_whole_words_only() -> None:
    data = base_prompt()
    data["negative"] = "ox, red"  # "ox" is inside "fox" (and too short); "red" is a word
    issues = [i for i in lint(data) if i.code == "negative-conflict"]
    assert len(issues) == 1 and '"red"' in issues[0].message


@pytest.mark.parametrize(
    ("lighting", "scene", "expected"),
    [
        (
            {"key": "low-key", "conditions": "bright midday sun"},
            None,
            {"key": "high-key", "conditions": "bright midday sun"},
        ),
        (
            {"key": "high-key", "conditions": "moonlight over the water"},
            None,
            {"key": "low-key", "conditions": "moonlight over the water"},
        ),
        (
            {"color_temperature_k": 2800, "conditions": "cool blue daylight"},
            None,
            {"color_temperature_k": 6500, "conditions": "cool blue daylight"},
        ),
        (
            {"color_temperature_k": 9000, "conditions": "golden hour"},
            None,
            {"color_temperature_k": 3000, "conditions": "golden hour"},
        ),
        (
            {"conditions": "harsh midday sun"},
            "A city street at night, shop windows glowing",
            {"conditions": "night"},
        ),
        (
            {"conditions": "moonlight"},
            "A beach at noon",
            {"conditions": "bright midday sun"},
        ),
    ],
)
def test_contradictory_lighting_is_aligned(
    lighting: dict[str, Any], scene: str | None, expected: dict[str, Any]
) -> None:
    data = base_prompt()
    data["lighting"] = lighting
    if scene:
        data["scene"] = scene
    issue = only(data, "lighting-conflict")
    assert issue.path == "lighting" and issue.severity == "warning"
    assert "The fix" in issue.message
    fixed = fix(data, "lighting-conflict")
    assert fixed["lighting"] == expected
    assert validate_prompt(fixed) == []


def test_night_and_midday_in_the_same_conditions_is_flagged_without_a_guess() -> None:
    data = base_prompt()
    data["lighting"] = {"conditions": "night with midday sun"}
    issue = only(data, "lighting-conflict")
    assert issue.fix_id is None and "Choose one" in issue.message
    assert apply_all_fixes(data)["lighting"] == data["lighting"]


def test_mixed_warm_and_cool_conditions_are_not_a_conflict() -> None:
    data = base_prompt()
    data["lighting"] = {"color_temperature_k": 3000, "conditions": "warm lamps and cool blue dusk"}
    assert lint(data) == []


def test_palette_proportions_over_one_are_normalised() -> None:
    data = base_prompt()
    for entry, share in zip(data["color_palette"], (0.6, 0.6, 0.3), strict=True):
        entry["proportion"] = share
    issue = only(data, "palette-proportions")
    assert issue.severity == "warning" and "150%" in issue.message
    fixed = fix(data, "palette-proportions")
    shares = [c["proportion"] for c in fixed["color_palette"]]
    assert shares == [0.4, 0.4, 0.2]


def test_palette_proportions_under_one_are_a_hint_only_when_all_are_given() -> None:
    data = base_prompt()
    for entry in data["color_palette"]:
        entry["proportion"] = 0.1
    issue = only(data, "palette-proportions")
    assert issue.severity == "info"
    assert abs(sum(c["proportion"] for c in fix(data, issue.code)["color_palette"]) - 1) < 0.01
    del data["color_palette"][2]["proportion"]  # the rest of the image is unaccounted for
    assert "palette-proportions" not in codes(lint(data))


def test_a_stale_fix_is_refused_instead_of_damaging_the_prompt() -> None:
    data = base_prompt()
    data["mood"] = ""
    fix_id = only(data, "empty-field").fix_id
    assert fix_id is not None
    data["mood"] = "calm"
    with pytest.raises(InvalidInputError, match="no longer applies"):
        apply_fix(data, fix_id)
    with pytest.raises(InvalidInputError):
        apply_fix(data, "not even json")


def test_errors_come_before_warnings_and_fix_all_leaves_a_valid_clean_prompt() -> None:
    data = base_prompt()
    data["mood"] = ""
    data["extra"] = True
    data["color_palette"].append({"hex": "red"})
    assert [i.severity for i in lint(data)] == ["error", "error", "warning"]
    fixed = apply_all_fixes(data)
    assert validate_prompt(fixed) == [] and lint(fixed) == []
    assert data["extra"] is True  # untouched


# --- presets -------------------------------------------------------------------------------


def test_builtin_presets_cover_the_categories_and_all_validate() -> None:
    ids = {p.id for p in BUILTIN_PRESETS}
    for wanted in (
        "style/watercolor",
        "style/cinematic",
        "style/anime",
        "style/film-noir",
        "style/product-shot",
        "lighting/golden-hour",
        "lighting/studio-softbox",
        "lighting/neon-night",
        "camera/35mm-film",
        "camera/85mm-portrait",
        "camera/drone-wide",
        "aspect_ratio/1-1",
        "aspect_ratio/16-9",
        "aspect_ratio/9-16",
        "aspect_ratio/4-5",
    ):
        assert f"builtin:{wanted}" in ids
    assert len(ids) == len(BUILTIN_PRESETS)
    for preset in BUILTIN_PRESETS:
        assert validate_partial(preset.data) == [], preset.id
        merged, changes = preview_preset(base_prompt(), preset)
        assert validate_prompt(merged) == [], preset.id
        assert changes or preset.id == "builtin:aspect_ratio/16-9", preset.id  # base is 16:9
        # A preset should not create the contradictions the linter warns about.
        assert "lighting-conflict" not in codes(lint(merged)), preset.id


def test_merge_is_deep_for_objects_and_replaces_arrays_and_values() -> None:
    base = base_prompt()
    merged = merge(
        base, {"lighting": {"conditions": "neon"}, "color_palette": [{"hex": "#000000"}]}
    )
    assert merged["lighting"]["direction"] == "side"  # kept from the base
    assert merged["lighting"]["conditions"] == "neon"
    assert merged["color_palette"] == [{"hex": "#000000"}]
    assert base == base_prompt()  # untouched


def test_preview_lists_the_changes_for_the_diff_view() -> None:
    preset = next(p for p in BUILTIN_PRESETS if p.id == "builtin:aspect_ratio/9-16")
    merged, changes = preview_preset(base_prompt(), preset)
    assert merged["composition"] == {"aspect_ratio": "9:16", "orientation": "portrait"}
    assert {(c.path, c.op, c.old, c.new) for c in changes} == {
        ("composition.aspect_ratio", "changed", "16:9", "9:16"),
        ("composition.orientation", "changed", "landscape", "portrait"),
    }
    assert list(merged) == list(canonical(merged))


def test_preview_refuses_a_result_that_would_not_validate() -> None:
    with pytest.raises(PromptValidationError) as caught:
        preview_preset(base_prompt(), {"lighting": {"key": "bright"}})
    assert caught.value.field_errors[0].path == "lighting.key"


def test_validate_partial_explains_what_is_wrong() -> None:
    assert validate_partial({}) and validate_partial([])  # type: ignore[arg-type]
    errors = validate_partial({"colour": "red", "schema_version": "1.0"})
    assert [e.path for e in errors] == ["colour", "schema_version"]
    assert "not a field a preset can set" in errors[0].message
    errors = validate_partial({"composition": {"aspect_ratio": "wide"}})
    assert errors[0].path == "composition.aspect_ratio"
    assert "like 16:9" in errors[0].message
    assert validate_partial({"scene": "A harbour", "mood": "calm"}) == []


def test_user_presets_are_saved_listed_and_deleted_by_their_owner_only(session: Session) -> None:
    ada = auth.create_user(session, email="ada@example.com", password="a long passphrase here")
    bob = auth.create_user(session, email="bob@example.com", password="a long passphrase here")
    assert ada.id and bob.id
    saved = save_preset(
        session,
        user_id=ada.id,
        name="  Moody   teal ",
        category="lighting",
        data={"lighting": {"key": "low-key", "conditions": "teal dusk"}},
    )
    session.commit()
    assert saved.name == "Moody teal" and saved.id.startswith("user:") and not saved.builtin
    assert saved.data == {"lighting": {"conditions": "teal dusk", "key": "low-key"}}
    assert saved in list_presets(session, user_id=ada.id)
    assert len(list_presets(session, user_id=ada.id)) == len(BUILTIN_PRESETS) + 1
    assert list_presets(session, user_id=bob.id) == list(BUILTIN_PRESETS)
    assert get_preset(session, user_id=ada.id, preset_id=saved.id) == saved
    assert get_preset(session, user_id=None, preset_id="builtin:style/anime").name == "Anime"
    with pytest.raises(NotFoundError):
        get_preset(session, user_id=bob.id, preset_id=saved.id)
    with pytest.raises(NotFoundError):
        delete_preset(session, user_id=bob.id, preset_id=saved.id)
    with pytest.raises(PermissionDeniedError):
        delete_preset(session, user_id=ada.id, preset_id="builtin:style/anime")
    delete_preset(session, user_id=ada.id, preset_id=saved.id)
    session.commit()
    assert list_presets(session, user_id=ada.id) == list(BUILTIN_PRESETS)


def test_save_preset_refuses_bad_input(session: Session) -> None:
    user = auth.create_user(session, email="ada@example.com", password="a long passphrase here")
    assert user.id
    good = {"mood": "calm"}
    with pytest.raises(InvalidInputError, match="name"):
        save_preset(session, user_id=user.id, name="  ", category="mood", data=good)
    with pytest.raises(InvalidInputError, match="category"):
        save_preset(session, user_id=user.id, name="x", category="colour", data=good)
    with pytest.raises(PromptValidationError) as caught:
        save_preset(
            session, user_id=user.id, name="x", category="camera", data={"camera": {"aperture": 0}}
        )
    assert caught.value.field_errors[0].path == "camera.aperture"


# --- exports -------------------------------------------------------------------------------

FLUX2_KEYS = {
    "scene",
    "subjects",
    "style",
    "color_palette",
    "lighting",
    "mood",
    "background",
    "composition",
    "camera",
}


def test_flux2_json_has_the_documented_shape() -> None:
    data = base_prompt()
    data["subjects"][0].update(expression="alert", clothing="nothing but fur", pose="mid-stride")
    data["text_render"] = [{"text": "WINTER", "position": "top"}]
    out = to_flux2_json(data)
    assert set(out) == FLUX2_KEYS
    assert all(
        isinstance(out[k], str) for k in FLUX2_KEYS - {"subjects", "color_palette", "camera"}
    )
    assert out["color_palette"] == ["#d9622b", "#eef2f7", "#3b4a5a"]
    assert out["subjects"][0] == {
        "description": "a red fox, alert expression, wearing nothing but fur",
        "position": "center",
        "action": "trotting",
        "pose": "mid-stride",
    }
    assert set(out["camera"]) == {"angle", "lens", "depth_of_field"}
    assert out["camera"]["lens"] == "300mm telephoto f/4"
    assert 'Text in the image: "WINTER" (top)' in out["scene"]
    assert "16:9" in out["composition"]
    assert "blurry" not in json.dumps(out)  # FLUX.2 has no negative prompt
    assert "photograph" in out["style"] and "soft dawn light" in out["lighting"]


def test_flux2_json_leaves_out_what_is_empty() -> None:
    minimal = {
        "schema_version": "1.0",
        "scene": "Fog",
        "subjects": [],
        "style": {},
        "color_palette": [],
        "lighting": {},
        "composition": {},
    }
    assert to_flux2_json(minimal) == {"scene": "Fog"}


def test_prose_and_canonical_exports() -> None:
    data = base_prompt()
    assert to_prose(data) == render_prose(data)
    assert json.loads(to_canonical_json(data)) == data


def test_image_size_follows_the_aspect_ratio_in_multiples_of_16() -> None:
    assert image_size({"composition": {"aspect_ratio": "16:9"}}) == (1024, 576)
    assert image_size({"composition": {"aspect_ratio": "9:16"}}) == (576, 1024)
    assert image_size({"composition": {"aspect_ratio": "4:5"}}) == (816, 1024)
    assert image_size({"composition": {}}) == (1024, 1024)
    assert image_size({"composition": {"aspect_ratio": "0:0"}}) == (1024, 1024)


def tricky_prompt() -> dict[str, Any]:
    data = base_prompt()
    data["scene"] = (
        "O'Brien's \"café\" sign says $(touch pwned) and `id` — 100% real; \\n stays\nnew line"
    )
    return data


def curl_body(snippet: str) -> dict[str, Any]:
    words = shlex.split(snippet.replace("\\\n", " "))
    assert words[0] == "curl"
    body: dict[str, Any] = json.loads(words[words.index("-d") + 1])
    return body


def test_curl_snippet_body_parses_back_exactly() -> None:
    data = tricky_prompt()
    snippet = snippet_curl(data, api_base="https://api.together.xyz/v1", model="m/FLUX.2-dev")
    assert curl_body(snippet) == generation_payload(data, model="m/FLUX.2-dev")
    assert json.loads(curl_body(snippet)["prompt"]) == to_flux2_json(data)
    assert "$TOGETHER_API_KEY" in snippet
    prose = curl_body(snippet_curl(data, model="black-forest-labs/FLUX.1-schnell"))
    assert prose["prompt"] == to_prose(data)
    assert (prose["width"], prose["height"]) == (1024, 576)


class _Recorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).requests.append((self.path, dict(self.headers), body))
        reply = json.dumps({"data": [{"url": "http://127.0.0.1/generated.png"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def fake_together() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    """A loopback server that records what a generation request sent."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


def _env_with_key() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTP_PROXY", "http_proxy"))}
    env.update(TOGETHER_API_KEY="test-key-123", NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    return env


def test_the_curl_snippet_runs_and_sends_exactly_the_payload(
    fake_together: tuple[str, list[tuple[str, dict[str, str], bytes]]], tmp_path: Path
) -> None:
    api_base, requests = fake_together
    data = tricky_prompt()
    snippet = snippet_curl(data, api_base=api_base, model="black-forest-labs/FLUX.2-dev")
    done = subprocess.run(
        ["bash", "-c", snippet], cwd=tmp_path, env=_env_with_key(), capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert b"generated.png" in done.stdout
    path, headers, body = requests[-1]
    assert path == "/v1/images/generations"
    assert headers["Authorization"] == "Bearer test-key-123"
    assert json.loads(body) == generation_payload(data, model="black-forest-labs/FLUX.2-dev")
    assert not (tmp_path / "pwned").exists()  # nothing in the prompt was run by the shell


def test_the_python_snippet_runs_and_sends_exactly_the_payload(
    fake_together: tuple[str, list[tuple[str, dict[str, str], bytes]]], tmp_path: Path
) -> None:
    api_base, requests = fake_together
    data = tricky_prompt()
    script = snippet_python(data, api_base=api_base, model="black-forest-labs/FLUX.1-dev")
    assert "test-key" not in script and "TOGETHER_API_KEY" in script
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_env_with_key(),
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == b"http://127.0.0.1/generated.png"
    _path, headers, body = requests[-1]
    assert headers["Authorization"] == "Bearer test-key-123"
    sent = json.loads(body)
    assert sent == generation_payload(data, model="black-forest-labs/FLUX.1-dev")
    assert sent["prompt"] == to_prose(data)


# --- the prompt page's similar prompts: a failure is said and logged, never swallowed ---------


def test_similar_prompts_for_a_prompt_that_is_gone_say_so(session: Session) -> None:
    from app.state.prompt_tools import SIMILAR_UNAVAILABLE, similar_or_notice

    found, notice = similar_or_notice("", 987_654)
    assert found == []
    assert notice.startswith(SIMILAR_UNAVAILABLE)
    assert "doesn't exist" in notice or "not found" in notice.lower()


def test_an_unexpected_failure_of_similar_prompts_is_logged_with_the_id_it_shows(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    from app.state.prompt_tools import SIMILAR_UNAVAILABLE, similar_or_notice

    with caplog.at_level("ERROR", logger="jsoncraft.state"):
        found, notice = similar_or_notice("", 2**70)  # too big for SQLite: not a user's error
    assert found == []
    assert notice.startswith(SIMILAR_UNAVAILABLE)
    reference = notice.rsplit("Reference: ", 1)[1]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None

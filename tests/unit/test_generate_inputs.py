"""The /generate form's checks: each control's message, and the plan of what a run sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.run_reads import ImageLink
from app.services.generation.run_records import GenerationView, ImageView
from app.state.generate_inputs import (
    CUSTOM,
    Choices,
    lora_request,
    missing_triggers,
    parse_count,
    parse_guidance,
    parse_scale,
    parse_seed,
    parse_steps,
    plan,
    preset_changes,
)
from app.state.generate_rows import ordinal, run_row
from tests.utils.prompt_factories import prompt_data

FLUX2 = "black-forest-labs/FLUX.2-dev"
SDXL = "stability/stable-diffusion-xl"


def fox(**fields: object) -> dict[str, object]:
    return prompt_data("A red fox in snow", **fields)


@pytest.mark.parametrize("text", ["1", " 4 ", "3"])
def test_counts_from_one_to_four(text: str) -> None:
    assert parse_count(text) == int(text)


@pytest.mark.parametrize("text", ["", "0", "5", "-1", "2.0", "two", "٣", "9" * 100, "1e1"])
def test_other_counts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="1 to 4 images"):
        parse_count(text)


def test_a_random_seed_ignores_what_is_typed() -> None:
    assert parse_seed("random", "not a number") is None


@pytest.mark.parametrize(("text", "seed"), [("0", 0), ("42", 42), ("4294967295", 4294967295)])
def test_fixed_seeds(text: str, seed: int) -> None:
    assert parse_seed("fixed", text) == seed


@pytest.mark.parametrize("text", ["-1", "4294967296", "12abc", "1.5", "０", "1" * 60, "NaN"])
def test_bad_fixed_seeds_say_the_range(text: str) -> None:
    with pytest.raises(ValueError, match="whole number from 0 to 4294967295"):
        parse_seed("fixed", text)


def test_a_fixed_seed_left_blank_asks_for_one() -> None:
    with pytest.raises(ValueError, match="Type a seed"):
        parse_seed("fixed", "  ")


def test_steps_and_guidance_blank_mean_the_model_default() -> None:
    assert parse_steps("") is None
    assert parse_guidance(" ") is None
    assert parse_steps("28") == 28
    assert parse_guidance("3.5") == 3.5


@pytest.mark.parametrize("text", ["0", "101", "2.5", "x", "-3"])
def test_bad_steps(text: str) -> None:
    with pytest.raises(ValueError, match="Steps must be"):
        parse_steps(text)


@pytest.mark.parametrize("text", ["-0.1", "50.5", "nan", "inf", "-inf", "x", "1e400"])
def test_bad_guidance(text: str) -> None:
    with pytest.raises(ValueError, match="Guidance must be"):
        parse_guidance(text)


def test_the_offline_preview_receives_the_canonical_json_at_its_own_size() -> None:
    planned = plan(fox(), Choices(model_id=OFFLINE_MODEL_ID, aspect="16:9"))
    assert planned.ok
    assert (planned.width, planned.height) == (960, 544)
    assert planned.prompt_format == "json"
    assert '"aspect_ratio":"16:9"' in planned.sent
    assert '"scene":"A red fox in snow"' in planned.sent


def test_prose_models_receive_prose_and_the_negative_only_where_they_take_one() -> None:
    data = fox(negative="blurry, watermark")
    flux2 = plan(data, Choices(model_id=FLUX2))
    sdxl = plan(data, Choices(model_id=SDXL))
    assert flux2.prompt_format == "json" and flux2.negative == ""
    assert "blurry" not in flux2.sent
    assert sdxl.prompt_format == "text" and sdxl.negative == "blurry, watermark"
    assert "A red fox in snow" in sdxl.sent


def test_an_applied_preset_changes_what_is_sent() -> None:
    plain = plan(fox(), Choices(model_id=OFFLINE_MODEL_ID))
    styled = plan(fox(), Choices(model_id=OFFLINE_MODEL_ID, preset="film-noir"))
    assert styled.ok and "noir" in styled.sent.lower() and "noir" not in plain.sent.lower()


def test_preset_changes_list_only_what_the_preset_changes() -> None:
    changes = preset_changes(fox(), "film-noir", aspect="16:9")
    assert changes and all(not c.path.startswith("composition.aspect") for c in changes)
    assert any(c.path.startswith("style") for c in changes)


def test_every_wrong_control_gets_its_own_message_at_once() -> None:
    choices = Choices(
        model_id=FLUX2,
        aspect=CUSTOM,
        custom_aspect="9:1",
        n="7",
        seed_mode="fixed",
        seed="x",
        steps="500",
        guidance="nope",
        takes_steps=True,
        takes_guidance=False,  # a model without guidance: what is typed there is not checked
    )
    planned = plan(fox(), choices)
    assert set(planned.errors) == {"aspect", "n", "seed", "steps"}
    assert "too stretched" in planned.errors["aspect"]
    assert planned.sent == ""


@pytest.mark.parametrize("aspect", ["", "16:0", "abc", "1:1:1", "<script>", "9" * 50])
def test_bad_custom_aspects_are_explained(aspect: str) -> None:
    planned = plan(fox(), Choices(model_id=OFFLINE_MODEL_ID, aspect=CUSTOM, custom_aspect=aspect))
    assert set(planned.errors) == {"aspect"}
    assert planned.errors["aspect"]


def test_an_aspect_outside_the_choices_is_refused() -> None:
    planned = plan(fox(), Choices(model_id=OFFLINE_MODEL_ID, aspect="7:5"))
    assert "aspect" in planned.errors


def test_no_prompt_and_an_unknown_preset_point_at_their_controls() -> None:
    assert set(plan(None, Choices(model_id=OFFLINE_MODEL_ID)).errors) == {"source"}
    unknown = plan(fox(), Choices(model_id=OFFLINE_MODEL_ID, preset="nope"))
    assert set(unknown.errors) == {"preset"}
    assert "There is no style preset" in unknown.errors["preset"]


def test_a_prompt_that_breaks_the_schema_is_the_sources_problem() -> None:
    planned = plan(
        {"scene": "no schema version"}, Choices(model_id=OFFLINE_MODEL_ID, preset="film-noir")
    )
    assert set(planned.errors) == {"source"}


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                    (13, "13th"), (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinals(n: int, text: str) -> None:
    assert ordinal(n) == text


def _view(images: list[ImageView], status: str = "running") -> GenerationView:
    return GenerationView(
        id=7, status=status, provider="offline", model=OFFLINE_MODEL_ID, prompt_id=None,
        prompt_version_id=None, width=960, height=544, aspect="16:9", steps=None, guidance=None,
        preset="builtin:style/film-noir", prompt_format="json", prompt_sent="{}",
        credits_per_image=2, credits_charged=2, cancel_requested=False, error=None,
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC), finished_at=None, images=images,
    )  # fmt: skip


def _image(position: int, status: str, **fields: object) -> ImageView:
    values: dict[str, object] = {
        "position": position, "status": status, "seed": 5, "asset_id": None, "request_id": None,
        "duration_ms": None, "cost_credits": 0, "error": None, "waiting_ahead": None,
    }  # fmt: skip
    values.update(fields)
    return ImageView(**values)  # type: ignore[arg-type]


def test_a_run_row_says_each_images_state_in_words() -> None:
    view = _view(
        [
            _image(
                0,
                "done",
                asset_id=3,
                duration_ms=1534,
                cost_credits=2,
                fidelity_score=81,
                fidelity_parts=({"label": "Colours", "score": 90, "explanation": "close"},),
                gallery_prompt_id=12,
            ),  # fmt: skip
            _image(1, "running"),
            _image(2, "queued", waiting_ahead=0),
            _image(3, "queued", waiting_ahead=1),
        ]
    )
    row = run_row(
        view, model_label="Layout", links={3: ImageLink("full", "thumb", "image/png", 960, 544)}
    )
    labels = [i["label"] for i in row["images"]]
    assert labels == ["Done", "Running", "Queued · 1st in line", "Queued · 2nd in line"]
    done = row["images"][0]
    assert (done["thumbnail_url"], done["full_url"]) == ("thumb", "full")
    assert (done["duration"], done["cost"], done["size"]) == ("1.5 s", "2 credits", "960 × 544")
    assert (done["score"], done["score_color"], done["gallery_url"]) == (
        "81",
        "green",
        "/prompts/12",
    )
    assert done["parts"] == [{"label": "Colours", "score": "90", "explanation": "close"}]
    assert row["images"][1]["score"] == "" and row["images"][1]["gallery_url"] == ""
    assert row["active"] and row["can_cancel"]
    assert "film-noir" in row["detail"] and "2 credits charged, 6 credits held" in row["detail"]


def test_a_finished_run_cannot_be_cancelled() -> None:
    row = run_row(_view([_image(0, "failed", error="Rate limited")], status="failed"),
                  model_label="m", links={})  # fmt: skip
    assert not row["active"] and not row["can_cancel"]
    assert row["images"][0]["error"] == "Rate limited"


@pytest.mark.parametrize("text, value", [("1", 1.0), (" 0 ", 0.0), ("2", 2.0), ("0.75", 0.75)])
def test_a_lora_scale_from_0_to_2(text: str, value: float) -> None:
    assert parse_scale(text) == value


@pytest.mark.parametrize(
    "text", ["", "  ", "2.01", "-0.1", "nan", "inf", "-inf", "1e309", "one", "1,5", "9" * 500]
)
def test_a_wrong_lora_scale_says_the_range(text: str) -> None:
    with pytest.raises(ValueError, match="A LoRA's scale is a number from 0 to 2"):
        parse_scale(text)


def _picked(lora_id: int, scale: str, name: str = "TOK") -> dict[str, str]:
    return {"id": str(lora_id), "name": name, "trigger_word": name, "scale": scale}


def test_picked_loras_become_what_the_run_takes() -> None:
    picked = [_picked(3, "0.8"), _picked(5, " 1 ", "ada_face")]
    assert lora_request(picked) == [{"id": 3, "scale": 0.8}, {"id": 5, "scale": 1.0}]
    assert lora_request([]) == []


def test_a_wrong_scale_names_its_lora() -> None:
    with pytest.raises(ValueError, match="^ada_face: A LoRA's scale is a number from 0 to 2"):
        lora_request([_picked(3, "1"), _picked(5, "3", "ada_face")])


def test_more_loras_than_a_run_takes_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 3 LoRAs"):
        lora_request([_picked(n, "1") for n in range(4)])


def test_trigger_words_missing_from_the_prompt() -> None:
    sent = '{"subject": "a photo of TOK on a beach", "style": "ada-face portrait"}'
    assert missing_triggers(sent, ["TOK", "tok", "ada", "my_dog"]) == ["ada", "my_dog"]
    assert missing_triggers(sent, ["tok"]) == []  # any case
    assert missing_triggers("TOKEN and ATOK", ["TOK"]) == ["TOK"]  # a word of its own
    assert missing_triggers("a (c++) photo", ["c++"]) == []  # no regex surprises
    assert missing_triggers(sent, []) == []

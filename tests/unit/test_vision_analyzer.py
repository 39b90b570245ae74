"""The offline analyzer end to end: faces, OCR, NSFW score, streaming order, schema, speed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np
from PIL import Image

from app.services.analyzer.vision import NOTICE, FieldResult, analyze_image, iter_analysis
from app.services.library.prompts import render_prose, validate_prompt
from tests.utils.vision_images import encode, photo_jpeg, skimage_photo, solid, text_poster


@cache
def analysed(data: bytes) -> dict[str, Any]:
    return analyze_image(data)


def test_astronaut_has_a_face_and_reads_as_a_portrait() -> None:
    prompt = analysed(photo_jpeg("astronaut"))
    assert validate_prompt(prompt) == []
    people = [s for s in prompt["subjects"] if s.get("type") == "person"]
    assert len(people) >= 1
    assert people[0]["position"].startswith("top")  # her face is in the upper middle
    assert prompt["style"]["genre"] == "portrait"
    assert prompt["camera"]["shot_type"] in {"close-up", "medium shot"}
    assert "portrait" in prompt["tags"] and "person" in prompt["tags"]
    for face in prompt["meta"]["faces"]:
        x, y, w, h = face["box"]
        assert 0 <= x < x + w <= 1 and 0 <= y < y + h <= 1


def test_photos_without_people_have_no_person_subject() -> None:
    for name in ("coffee", "rocket"):
        prompt = analysed(photo_jpeg(name))
        assert all(s.get("type") != "person" for s in prompt["subjects"]), name
        assert "portrait" not in prompt["style"].get("genre", "")


def test_large_text_is_read_and_placed() -> None:
    prompt = analysed(text_poster("HELLO 2026"))
    texts = [t["text"] for t in prompt["text_render"]]
    assert "HELLO2026" in "".join(texts).replace(" ", "")
    assert prompt["text_render"][0]["position"] == "center"
    assert prompt["subjects"][0]["type"] == "text"
    assert prompt["style"]["genre"] == "poster"
    assert prompt["style"]["medium"] == "graphic design"
    assert "text" in prompt["tags"]


def test_plain_image_has_no_text() -> None:
    assert analysed(solid((40, 90, 160)))["text_render"] == []


def test_nsfw_score_is_reported_for_an_ordinary_photo() -> None:
    nsfw = analysed(photo_jpeg("astronaut"))["meta"]["nsfw"]
    assert 0 <= nsfw["score"] < 0.2
    assert nsfw["flagged"] is False


def test_meta_says_what_is_measured_and_what_is_guessed() -> None:
    meta = analysed(photo_jpeg("chelsea"))["meta"]
    assert meta["source"] == "local"
    assert meta["analyzer"] == "jsoncraft-local-1"
    assert meta["notice"] == NOTICE
    assert {"subjects", "style", "mood", "scene", "tags"} <= set(meta["heuristic_fields"])
    assert "color_palette" not in meta["heuristic_fields"]
    assert meta["measurements"]["width"] == 451
    assert set(meta["measurements"]["timings_ms"]) >= {"palette", "ocr", "nsfw"}


def test_iter_analysis_streams_each_field_once_palette_first_meta_last() -> None:
    results = list(iter_analysis(photo_jpeg("coffee"), filename="uploads/coffee.jpg"))
    fields = [r.field for r in results]
    assert all(isinstance(r, FieldResult) and r.note for r in results)
    assert fields[0] == "color_palette"
    assert fields[-1] == "meta"
    assert len(fields) == len(set(fields))
    assert fields.index("lighting") < fields.index("composition") < fields.index("text_render")
    assert results[-1].value["filename"] == "coffee.jpg"
    by_field = {r.field: r for r in results}
    assert by_field["color_palette"].heuristic is False
    assert by_field["mood"].heuristic is True


def test_every_field_alone_is_valid_in_a_minimal_prompt() -> None:
    """A streaming UI shows fields one by one: each must be valid on its own."""
    base = {
        "schema_version": "1.0",
        "scene": "x",
        "subjects": [],
        "style": {},
        "color_palette": [],
        "lighting": {},
        "composition": {},
    }
    for result in iter_analysis(photo_jpeg("astronaut")):
        assert validate_prompt({**base, result.field: result.value}) == [], result.field


def test_rules_follow_the_measurements() -> None:
    airy = analysed(solid((225, 235, 245)))
    assert airy["lighting"]["key"] == "high-key"
    assert airy["mood"] == "calm, airy"
    night = analysed(solid((30, 20, 10)))
    assert night["lighting"]["key"] == "low-key"
    assert night["mood"] in {"intimate, moody", "dark, dramatic"}
    grey = analysed(photo_jpeg("camera"))
    assert grey["style"]["medium"] == "black-and-white photograph"
    assert "black and white" in grey["tags"]


def test_prompts_render_as_prose() -> None:
    prose = render_prose(analysed(photo_jpeg("astronaut")))
    assert "Color palette:" in prose and "Lighting:" in prose


def test_concurrent_analyses_agree() -> None:
    data = [photo_jpeg("astronaut"), text_poster("OPEN DAILY")] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        prompts = list(pool.map(analyze_image, data))
    assert prompts[0]["subjects"] == prompts[2]["subjects"]
    assert prompts[1]["text_render"] == prompts[3]["text_render"]


def test_a_12_megapixel_photo_analyses() -> None:
    # Its speed is measured by benchmarks/analysis_speed.py, not asserted here.
    photo = skimage_photo("rocket").convert("RGB").resize((4000, 3000), Image.Resampling.BILINEAR)
    grain = np.random.default_rng(1).integers(-6, 7, (3000, 4000, 3), dtype=np.int16)
    pixels = np.clip(np.asarray(photo, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    data = encode(Image.fromarray(pixels), "JPEG", quality=90)
    prompt = analyze_image(data)
    assert prompt["composition"]["aspect_ratio"] == "4:3"
    assert prompt["meta"]["measurements"]["width"] == 4000
